"""Fallback values by parameter word, for when neither outputs, state nor descriptions offer one.

Plain, realistic examples (cities, dates, file names, short messages) so that offline queries read like
something a person would ask; the call writer still checks every value against the backend.
"""

from __future__ import annotations

from typing import Any

VOCABULARY: dict[str, list[Any]] = {
    "city": ["San Francisco", "New York", "Los Angeles", "Chicago", "Boston", "Seattle"],
    "location": ["San Francisco", "New York", "London", "Paris", "Chicago"],
    "destination": ["123 Main St, San Francisco, CA", "456 Oak Ave, Boston, MA", "789 Pine Rd, Seattle, WA"],
    "date": ["2024-11-15", "2024-12-03", "2025-01-20", "2025-02-14"],
    "birth": ["1990-04-12", "1985-09-30", "1978-01-05"],
    "expiration": ["12/2027", "08/2026", "03/2028"],
    "unit": ["km", "m", "cm", "mm", "miles", "kg", "lb", "ft", "in", "yd"],
    "currency": ["USD", "EUR", "GBP", "JPY", "CAD"],
    "first": ["Alice", "Marcus", "Priya", "Elena", "Tomas"],
    "last": ["Smith", "Okafor", "Nguyen", "Rossi", "Berg"],
    "user": ["Alice", "Bob", "Catherine", "Daniel", "Eve"],
    "username": ["john", "alice", "bob", "carol"],
    "password": ["john123", "secret42", "pa55word"],
    "passport": ["P12345678", "X98765432", "K24681357"],
    "card": ["4111222233334444", "5500111122223333"],
    "number": ["4111222233334444", "5500111122223333"],
    "keyword": ["update", "file", "meeting", "report"],
    "pattern": ["budget", "TODO", "report", "data"],
    "sector": ["Technology", "Healthcare", "Finance", "Energy"],
    "insurance": ["comprehensive", "travel", "basic"],
    "class": ["economy", "business", "first"],
    "grant": ["read_write", "read", "write"],
    "mode": ["auto", "on", "off"],
    "status": ["open", "closed", "in progress"],
    "file": ["notes.txt", "summary.txt", "todo.txt", "draft.md", "results.csv"],
    "dir": ["archive", "reports", "backup", "projects", "drafts"],
    "folder": ["archive", "reports", "backup", "projects", "drafts"],
    "title": ["Login issue", "Broken laptop screen", "Printer not working", "Access request"],
    "content": ["Quarterly numbers look good", "Reminder: team sync at 10am", "Shipped the new release today"],
    "message": ["Please send me the latest report.", "Can we move the meeting to Friday?", "Thanks for your help!"],
    "comment": ["Great point!", "Thanks for sharing.", "I agree with this."],
    "description": ["The issue started this morning.", "Needs attention before the weekend."],
    "resolution": ["Replaced the faulty part.", "Reset the password and confirmed access."],
    "tag": ["#update", "#news", "#team"],
    "mention": ["@alice", "@bob"],
    "id": ["client_001", "app_42"],
    "secret": ["s3cr3t_key", "abc123secret"],
    "token": ["refresh_token_123", "rt_98765"],
}
STRINGS = ["sample", "alpha", "report", "delta"]
NUMBERS = [2.0, 5.0, 10.0, 12.5, 25.0, 40.0, 100.0]
INTEGERS = [1, 2, 3, 5, 10]
