"""The price list: items with prices that bills are made of."""
