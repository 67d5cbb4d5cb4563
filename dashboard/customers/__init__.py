"""Customers: a directory built by itself from the payers of bills."""
