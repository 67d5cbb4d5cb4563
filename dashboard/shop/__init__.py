"""The shop QR: posters customers scan to pay any amount by themselves, and what they issue."""
