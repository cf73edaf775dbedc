"""Prompt templates for the sample workload: simple, medium and hard requests, by task.

Each task names the tenant and feature tag its traffic comes from and builds a prompt from
seeded choices, so that the same seed always yields the same workload.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

COUNTRIES = [
    "Peru",
    "Kenya",
    "Norway",
    "Vietnam",
    "Chile",
    "Portugal",
    "Ghana",
    "Nepal",
    "Canada",
    "Morocco",
    "Finland",
    "Uruguay",
    "Jordan",
    "Iceland",
    "Malaysia",
    "Austria",
    "Bolivia",
    "Senegal",
    "Latvia",
    "Mongolia",
    "Ecuador",
    "Tunisia",
    "Denmark",
    "Laos",
    "Paraguay",
    "Croatia",
    "Oman",
    "Zambia",
    "Estonia",
    "Bhutan",
]
BOOKS = [
    "Middlemarch",
    "The Trial",
    "Things Fall Apart",
    "Dune",
    "Beloved",
    "Moby-Dick",
    "The Leopard",
    "Pedro Paramo",
    "Kokoro",
    "Persuasion",
    "The Master and Margarita",
]
ACRONYMS = ["SLA", "RPO", "OKR", "GDPR", "TLS", "CRM", "ETL", "KYC", "SKU", "NPS", "VAT", "API"]
UNITS = [("minutes", "day"), ("ounces", "pound"), ("centimetres", "mile"), ("bytes", "megabyte")]
REVIEWS = [
    "The blender broke after two days and support never answered.",
    "Arrived early, works exactly as described, would buy again.",
    "It is fine. Nothing special, nothing wrong.",
    "The battery lasts forever but the screen scratches easily.",
    "Worst hotel stay of my life: noisy, dirty and overpriced.",
    "Setup took five minutes and the app is lovely to use.",
]
TICKETS = [
    "I was charged twice for my March invoice.",
    "The login page keeps saying my password is wrong.",
    "My parcel shows delivered but nothing arrived.",
    "Can I change the colour of the dashboard?",
    "The export to CSV button does nothing in Firefox.",
]
SENTENCES = [
    "The meeting has been moved to {day} afternoon.",
    "Please keep your receipt: returns are accepted until {day}.",
    "Our office will be closed on {day} for the public holiday.",
    "Version {n}.0 fixes the bug that deleted drafts.",
    "Breakfast is served from seven until ten, except on {day}.",
    "Your password expires in {n} days.",
    "The train to the airport leaves every {n} minutes.",
    "We have received your application and will reply by {day}.",
    "Parking is free for guests after {n} in the evening.",
    "The library now opens at {n} on {day}s.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FACTS = ["capital", "currency", "official language", "population", "highest mountain"]
ACTIONS = [
    "reset my password",
    "export my invoices",
    "add a team member",
    "rotate an API key",
    "enable two-factor authentication",
    "change the account owner",
    "restore a deleted file",
]
PRODUCTS = ["Acme Drive", "Acme Mail", "Acme CRM", "Acme Books", "Acme Chat", "Acme Shop"]
LANGUAGES = ["French", "German", "Spanish", "Japanese", "Portuguese", "Italian", "Korean"]
PEOPLE = ["Ana Ruiz", "Tom Becker", "Priya Nair", "Lars Olsen", "Mei Chen", "Omar Haddad"]
NOTES = [
    "The launch slips one week because the payment provider has not signed off",
    "marketing wants the pricing page translated before launch",
    "support reports a spike in password reset tickets since Monday",
    "the data team will deliver the churn dashboard by the end of the month",
    "hiring for two backend roles is approved",
    "the mobile release needs another round of accessibility testing",
    "legal asked for a review of the new terms before they go live",
    "infrastructure costs rose twelve percent last quarter",
]
CODE_TASKS = [
    "parses an ISO 8601 date string and returns the weekday",
    "deduplicates a list of dictionaries by their 'id' key, keeping the first",
    "reads a CSV file and returns the average of a numeric column",
    "retries an HTTP GET with exponential backoff",
    "validates an IBAN checksum",
    "merges overlapping time intervals",
    "computes a rolling median over a window of integers",
    "converts a Roman numeral to an integer",
    "finds the shortest path in a weighted graph with Dijkstra's algorithm",
    "rate-limits calls with a token bucket",
]
CODE_LANGUAGES = ["Python", "TypeScript", "Go", "Rust"]
CODE_EXTRAS = ["doc comments", "two unit tests", "error handling for bad input"]
EMAILS = [
    ("a customer", "apologising for a delayed order and offering a discount"),
    ("a supplier", "asking to move the delivery date by one week"),
    ("the team", "announcing the new on-call rota"),
    ("a candidate", "inviting them to a second interview"),
    ("a landlord", "reporting a broken heating system"),
]
CLAUSES = [
    "The supplier's total liability shall not exceed the fees paid in the last month.",
    "Either party may terminate this agreement without notice for any reason.",
    "The customer indemnifies the supplier against all third-party claims.",
    "All intellectual property created under this contract vests in the contractor.",
]
JURISDICTIONS = ["English", "German", "California", "New York", "French"]
DRUGS = ["warfarin", "metformin", "lisinopril", "amiodarone", "lithium"]
SYMPTOMS = ["dizziness and bruising", "persistent cough", "confusion and tremor", "muscle pain"]


def _pick(rng: random.Random, items: list[str]) -> str:
    return items[rng.randrange(len(items))]


def short_question(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return f"What is the {_pick(rng, FACTS)} of {_pick(rng, COUNTRIES)}?"
    if kind == 1:
        return f"Who wrote {_pick(rng, BOOKS)}, and when was it published?"
    if kind == 2:
        return f"What does {_pick(rng, ACRONYMS)} stand for?"
    if kind == 3:
        return f"How do I {_pick(rng, ACTIONS)} in {_pick(rng, PRODUCTS)}?"
    small, big = UNITS[rng.randrange(len(UNITS))]
    return f"How many {small} are in a {big}?"


def classification(rng: random.Random) -> str:
    if rng.random() < 0.5:
        review = _pick(rng, REVIEWS)
        return (
            f"Classify the sentiment of this review of {_pick(rng, PRODUCTS)} as positive, "
            f'negative or neutral: "{review}"'
        )
    ticket = _pick(rng, TICKETS)
    return (
        f"Classify support ticket #{rng.randrange(10_000, 99_999)} as billing, login, shipping "
        f'or other: "{ticket}"'
    )


def translation(rng: random.Random) -> str:
    sentence = _pick(rng, SENTENCES).format(day=_pick(rng, DAYS), n=rng.randrange(2, 12))
    return f'Translate into {_pick(rng, LANGUAGES)}: "{sentence}"'


def extraction(rng: random.Random) -> str:
    person = _pick(rng, PEOPLE)
    handle = person.lower().replace(" ", ".")
    phone = f"+44 20 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"
    return (
        "Extract the name, email address and phone number as JSON from: "
        f'"Hi, this is {person}, reach me at {handle}@example.com or {phone}."'
    )


def summary(rng: random.Random) -> str:
    notes = ". ".join(rng.sample(NOTES, 4))
    return f"Summarize these meeting notes in three bullet points:\n{notes}."


def code(rng: random.Random) -> str:
    return (
        f"Write a {_pick(rng, CODE_LANGUAGES)} function that {_pick(rng, CODE_TASKS)}. "
        f"Include {_pick(rng, CODE_EXTRAS)}."
    )


def email(rng: random.Random) -> str:
    recipient, purpose = EMAILS[rng.randrange(len(EMAILS))]
    return (
        f"Write a short, polite email to {recipient} {purpose} "
        f"(reference {rng.randrange(1000, 9999)}). Sign it as {_pick(rng, PEOPLE)}."
    )


def reasoning(rng: random.Random) -> str:
    speed_a, speed_b = rng.randrange(60, 120), rng.randrange(60, 120)
    distance = rng.randrange(200, 900)
    return (
        f"Two trains start {distance} km apart and travel towards each other at {speed_a} km/h "
        f"and {speed_b} km/h. A bird flies between them at 150 km/h until they meet. Solve step "
        "by step: when do they meet, and how far does the bird fly? Prove your answer."
    )


def legal(rng: random.Random) -> str:
    return (
        f"Analyse this contract clause under {_pick(rng, JURISDICTIONS)} law: "
        f'"{_pick(rng, CLAUSES)}" Explain the liability and enforceability risks step by step, '
        "and propose a compliant redraft."
    )


def medical(rng: random.Random) -> str:
    return (
        f"A {rng.randrange(35, 90)}-year-old patient taking {_pick(rng, DRUGS)} reports "
        f"{_pick(rng, SYMPTOMS)}. Reason step by step through the differential diagnosis, the "
        "likely interactions and the dosage adjustments a clinician should consider."
    )


@dataclass(frozen=True, slots=True)
class Task:
    name: str  # also the feature tag
    level: str  # simple | medium | hard
    weight: float  # share within its level
    tenants: tuple[str, ...]
    build: Callable[[random.Random], str]
    max_tokens: int | None = None


TASKS = (
    Task("faq", "simple", 0.35, ("search", "support"), short_question, 128),
    Task("classify", "simple", 0.25, ("support",), classification, 16),
    Task("translate", "simple", 0.20, ("docs", "support"), translation, 256),
    Task("extract", "simple", 0.20, ("search", "docs"), extraction, 256),
    Task("summarize", "medium", 0.45, ("docs", "support"), summary, 512),
    Task("codegen", "medium", 0.30, ("platform",), code, None),
    Task("email", "medium", 0.25, ("support",), email, 400),
    Task("reasoning", "hard", 0.40, ("analytics",), reasoning, None),
    Task("legal-review", "hard", 0.35, ("legal",), legal, None),
    Task("medical-review", "hard", 0.25, ("clinical",), medical, None),
)
LEVEL_SHARES = {"simple": 0.70, "medium": 0.25, "hard": 0.05}
