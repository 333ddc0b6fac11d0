"""Initial environment states for BFCL classes, written by the factory itself (never read from BFCL tests).

A class's empty default is often a dead end (an empty file system, nobody logged in), where most calls
can only fail. These generators give each scenario a small, seeded, plausible world instead: a user's
home directory with a few files, a logged-in account, a registered card. The state is stored with the
trajectory (`metadata.initial_state`) so every stored call can be replayed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

FIRST_NAMES = ["alex", "maria", "kenji", "fatima", "lucas", "ines", "omar", "sofia"]
LAST_NAMES = ["Rivera", "Tanaka", "Haddad", "Moreau", "Silva", "Kowalski"]
FOLDERS = ["documents", "projects", "reports", "archive", "photos", "research", "invoices", "drafts"]
FILES = {
    "notes.txt": "Meeting notes\nDiscuss budget\nReview timeline\nAssign owners",
    "todo.txt": "Buy supplies\nCall the bank\nSend the report\nBook the venue",
    "report.csv": "month,revenue\nJan,1200\nFeb,1350\nMar,1500",
    "summary.md": "# Summary\nThe project is on track.\nNext review in two weeks.",
    "log.txt": "INFO start\nWARNING disk almost full\nINFO done\nNOTICE retry scheduled",
    "ideas.txt": "Faster onboarding\nWeekly demos\nBetter search",
    "budget.txt": "rent 1200\nfood 400\ntravel 250\nsavings 600",
    "draft.txt": "Dear team,\nplease find the latest figures attached.\nBest regards",
}
TWEETS = ["Excited to share our new release!", "Coffee first, then code.", "Reading a great book on design.",
          "Team offsite next week!", "Learning something new every day."]


def _file_system(rng: random.Random) -> dict[str, Any]:
    def files(count: int) -> dict[str, Any]:
        return {name: {"type": "file", "content": FILES[name]} for name in rng.sample(sorted(FILES), count)}

    folders = rng.sample(FOLDERS, 3)
    contents: dict[str, Any] = files(rng.randint(2, 3))
    for index, folder in enumerate(folders):
        inner: dict[str, Any] = files(rng.randint(1, 3))
        if index == 0:
            inner[rng.choice([f for f in FOLDERS if f not in folders])] = {"type": "directory", "contents": files(1)}
        contents[folder] = {"type": "directory", "contents": inner}
    return {"root": {rng.choice(FIRST_NAMES): {"type": "directory", "contents": contents}}}


def _twitter(rng: random.Random) -> dict[str, Any]:
    user = rng.choice(FIRST_NAMES)
    others = rng.sample([n for n in FIRST_NAMES if n != user], 3)
    tweets = {}
    for index in range(3):
        author = user if index < 2 else others[0]
        tweets[str(index)] = {"id": index, "username": author, "content": rng.choice(TWEETS), "tags": ["#update"], "mentions": []}
    return {"username": user, "password": f"{user}{rng.randint(100, 999)}", "authenticated": True, "tweets": tweets,
            "comments": {}, "retweets": {}, "following_list": others[:2], "tweet_counter": 3}


def _tickets(rng: random.Random) -> dict[str, Any]:
    user = rng.choice(FIRST_NAMES)
    titles = rng.sample(["Laptop will not boot", "VPN access request", "Email sync issue", "Printer jam", "Password reset"], 2)
    queue = [{"id": index + 1, "title": title, "description": f"Reported by {user}.", "status": "Open",
              "priority": rng.randint(1, 5), "created_by": user} for index, title in enumerate(titles)]
    return {"ticket_queue": queue, "ticket_counter": len(queue) + 1, "current_user": user}


def _trading(rng: random.Random) -> dict[str, Any]:
    return {"authenticated": True, "market_status": "Open",
            "watch_list": rng.sample(["NVDA", "AAPL", "GOOG", "TSLA", "MSFT"], 2)}


def _messages(rng: random.Random) -> dict[str, Any]:
    return {"current_user": rng.choice(["USR001", "USR002", "USR003"])}


def _travel(rng: random.Random) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES).title(), rng.choice(LAST_NAMES)
    card_id = str(rng.randint(100000000000, 999999999999))
    route = rng.choice([("SFO", "LAX"), ("JFK", "ORD"), ("LAX", "JFK"), ("ORD", "SFO")])
    booking_id = str(rng.randint(1000000, 9999999))
    return {
        "random_seed": rng.randint(1, 10**6),
        "credit_card_list": {card_id: {"card_number": str(rng.randint(4000000000000000, 4999999999999999)),
                                       "expiration_date": f"{rng.randint(1, 12):02d}/{rng.randint(2027, 2030)}",
                                       "cardholder_name": f"{first} {last}", "card_verification_number": rng.randint(100, 999),
                                       "balance": float(rng.randint(20000, 60000))}},
        "booking_record": {booking_id: {"card_id": card_id, "travel_date": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                                        "travel_from": route[0], "travel_to": route[1], "travel_class": "economy",
                                        "travel_cost": float(rng.randint(200, 900)),
                                        "transaction_id": str(rng.randint(10000000, 99999999))}},
        "access_token": f"tok{rng.randint(10**6, 10**7)}",
        "token_type": "Bearer", "token_expires_in": 7200, "token_scope": "read_write",
        "user_first_name": first, "user_last_name": last, "budget_limit": None,
    }


def _vehicle(rng: random.Random) -> dict[str, Any]:
    ready = rng.random() < 0.85
    running = ready and rng.random() < 0.85
    doors = {door: "locked" if ready else "unlocked" for door in ("driver", "passenger", "rear_left", "rear_right")}
    return {"random_seed": rng.randint(1, 10**6), "fuelLevel": float(rng.randint(10, 40)), "doorStatus": doors,
            "engineState": "running" if running else "stopped",
            "remainingUnlockedDoors": 0 if ready else 4, "brakePedalStatus": "pressed" if ready else "released",
            "brakePedalForce": 1000.0 if ready else 0.0}


GENERATORS: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "GorillaFileSystem": _file_system,
    "TwitterAPI": _twitter,
    "TicketAPI": _tickets,
    "TradingBot": _trading,
    "MessageAPI": _messages,
    "TravelAPI": _travel,
    "VehicleControlAPI": _vehicle,
}


def initial_state_for(tool_classes: list[str], seed: int) -> dict[str, Any]:
    """tool class -> backend config; classes without a generator start from their own defaults (`{}`)."""
    state: dict[str, Any] = {}
    for tool_class in sorted(set(tool_classes)):
        generator = GENERATORS.get(tool_class)
        if generator is not None:
            state[tool_class] = generator(random.Random(f"{seed}:{tool_class}"))
    return state
