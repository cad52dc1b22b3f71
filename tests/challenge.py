"""The challenge's example file and the lines its summary must start with, shared by all layers."""

from __future__ import annotations

CHALLENGE_CSV = b"Id,Date,Transaction\n0,7/15,+60.5\n1,7/28,-10.3\n2,8/2,-20.46\n3,8/13,+10\n"
CHALLENGE_LINES = [
    "Total balance is 39.74",
    "Number of transactions in July: 2",
    "Number of transactions in August: 2",
    "Average debit amount: -15.38",
    "Average credit amount: 35.25",
]
