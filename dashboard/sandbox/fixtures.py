"""The sandbox's fixed world: one merchant, a few payers, banks and bank accounts.

Everything here is immutable and identical on every start, so tests and demos can name
payers and accounts directly. Names and numbers are invented; the shapes follow the samples
in ihela-api.md (the merchant, ``clientmail@gmail.com`` and ``000001-01`` come from them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CURRENCY_NUMERIC = 108
CURRENCY_ALPHA = "BIF"
OPERATION_MIN_AMOUNT = 1
# No maximum is documented; this only keeps absurd numbers out of the "%.2f" echo.
OPERATION_MAX_AMOUNT = 10**12


@dataclass(frozen=True)
class Person:
    """An iHela user: the merchant's own user or a payer who can receive bills."""

    username: str
    email: str
    ihela_code: str
    phone: str | None
    full_name: str
    bio: str


@dataclass(frozen=True)
class Merchant:
    id: int
    title: str
    slug: str
    code: int
    user: Person


@dataclass(frozen=True)
class BankLimits:
    in_minimum: int
    in_maximum: int
    out_minimum: int
    out_maximum: int


@dataclass(frozen=True)
class Bank:
    slug: str
    name: str
    nickname: str
    bank_type: str
    bank_code: int
    swift_code: str | None
    account_mask: str | None
    limits: BankLimits | None
    is_active: bool
    has_lookup: bool
    has_cashout: bool
    can_create_account_online: bool | None
    colour: str


@dataclass(frozen=True)
class Account:
    bank_slug: str
    number: str
    holder: str
    customer_id: str


MERCHANT = Merchant(
    id=6,
    title="Global Test Merchant",
    slug="global-test-merchant",
    code=16,
    user=Person(
        username="merchant-username",
        email="merchantmail@gmail.com",
        ihela_code="1",
        phone=None,
        full_name="Global Test Merchant",
        bio="Merchant bio",
    ),
)

PAYERS: tuple[Person, ...] = (
    Person(
        username="client-username",
        email="clientmail@gmail.com",
        ihela_code="2",
        phone="79123456",
        full_name="Ndayishimiye Claude",
        bio="Client bio",
    ),
    Person(
        username="fbigirimana",
        email="fabrice.bigirimana@example.com",
        ihela_code="3",
        phone="79000001",
        full_name="Bigirimana Fabrice",
        bio="",
    ),
    Person(
        username="aline.n",
        email="aline.niyonzima@example.com",
        ihela_code="4",
        phone="68123456",
        full_name="Niyonzima Aline",
        bio="",
    ),
    Person(
        username="divine",
        email="divine.irakoze@example.com",
        ihela_code="5",
        phone=None,
        full_name="Irakoze Divine",
        bio="",
    ),
)

IHELA_BANK_SLUG = "MF1-0001"

BANKS: tuple[Bank, ...] = (
    Bank(
        slug=IHELA_BANK_SLUG,
        name="iHela Credit Union",
        nickname="ICU",
        bank_type="MF1",
        bank_code=1,
        swift_code=None,
        account_mask="000000-00",
        limits=None,
        is_active=True,
        has_lookup=True,
        has_cashout=True,
        can_create_account_online=True,
        colour="#0b6e4f",
    ),
    Bank(
        slug="BNQ-0002",
        name="Mutec",
        nickname="MUTEC",
        bank_type="BNQ",
        bank_code=2,
        swift_code=None,
        account_mask=None,
        limits=None,
        is_active=True,
        has_lookup=True,
        has_cashout=False,
        can_create_account_online=False,
        colour="#1d4e89",
    ),
    Bank(
        slug="MOB-0003",
        name="EcoCash",
        nickname="ECOCASH",
        bank_type="MOB",
        bank_code=3,
        swift_code=None,
        account_mask="00000000",
        limits=BankLimits(
            in_minimum=1_000, in_maximum=2_000_000, out_minimum=1_000, out_maximum=2_000_000
        ),
        is_active=True,
        has_lookup=True,
        has_cashout=True,
        can_create_account_online=False,
        colour="#c8102e",
    ),
    Bank(
        slug="BNQ-0005",
        name="CRDB",
        nickname="CRDB",
        bank_type="BNQ",
        bank_code=5,
        swift_code="CORUBIBU",
        account_mask=None,
        limits=None,
        is_active=True,
        # The one bank whose lookup is unavailable: clients must cope without a holder name.
        has_lookup=False,
        has_cashout=False,
        can_create_account_online=None,
        colour="#2e7d32",
    ),
    Bank(
        slug="MOB-0006",
        name="PesaFlash",
        nickname="PESAFLASH",
        bank_type="MOB",
        bank_code=6,
        swift_code=None,
        account_mask=None,
        limits=BankLimits(
            in_minimum=10_000, in_maximum=50_000_000, out_minimum=10_000, out_maximum=50_000_000
        ),
        is_active=True,
        has_lookup=True,
        has_cashout=True,
        can_create_account_online=False,
        colour="#f39c12",
    ),
    Bank(
        slug="MF1-0007",
        name="Old Credit Union",
        nickname="OCU",
        bank_type="MF1",
        bank_code=7,
        swift_code=None,
        account_mask="000000-00",
        limits=None,
        # Listed but inactive, so pickers can be tested for hiding it.
        is_active=False,
        has_lookup=True,
        has_cashout=False,
        can_create_account_online=False,
        colour="#6c757d",
    ),
)

ACCOUNTS: tuple[Account, ...] = (
    Account(IHELA_BANK_SLUG, "000001-01", "Bigirimana Fabrice", "1"),
    Account(IHELA_BANK_SLUG, "000002-01", "Ndayishimiye Claude", "2"),
    Account(IHELA_BANK_SLUG, "000016-01", "Niyonzima Aline", "16"),
    Account(IHELA_BANK_SLUG, "000042-01", "Irakoze Divine", "42"),
    Account("BNQ-0002", "00012345", "Hakizimana Jean", "12345"),
    Account("BNQ-0002", "00067890", "Ntakirutimana Rose", "67890"),
    Account("MOB-0003", "79123456", "Ndayishimiye Claude", "79123456"),
    Account("MOB-0003", "79000001", "Bigirimana Fabrice", "79000001"),
    Account("MOB-0003", "71000002", "Uwimana Ange", "71000002"),
    Account("BNQ-0005", "0150012345600", "Nshimirimana Eric", "12345600"),
    Account("MOB-0006", "68123456", "Niyonzima Aline", "68123456"),
    Account("MOB-0006", "68000007", "Kaneza Grace", "68000007"),
    Account("MF1-0007", "000003-01", "Manirakiza Paul", "3"),
)

_BANKS_BY_SLUG = {bank.slug: bank for bank in BANKS}
_MF1_ACCOUNT = re.compile(r"^0*(\d+)-(\d{2})$")


def find_bank(slug: str) -> Bank | None:
    return _BANKS_BY_SLUG.get(slug.strip().upper())


def find_payer(identifier: str) -> Person | None:
    """A payer by e-mail, phone number, username or iHela client code, as iHela accepts."""
    wanted = identifier.strip().casefold()
    if not wanted:
        return None
    for person in PAYERS:
        keys = {person.email.casefold(), person.username.casefold(), person.ihela_code}
        if person.phone:
            keys.add(person.phone)
        if wanted in keys:
            return person
    return None


def _account_key(bank: Bank, number: str) -> str:
    # iHela account numbers appear as 000016-01, 0000000016-01 and 16-01: one account.
    text = number.strip().replace(" ", "")
    if bank.bank_type == "MF1":
        match = _MF1_ACCOUNT.match(text)
        if match:
            return f"{int(match.group(1))}-{match.group(2)}"
    return text.casefold()


def find_account(bank: Bank, identifier: str) -> Account | None:
    """An account at ``bank`` by account number (any iHela spelling) or customer id."""
    key = _account_key(bank, identifier)
    if not key:
        return None
    accounts = [account for account in ACCOUNTS if account.bank_slug == bank.slug]
    for account in accounts:
        if _account_key(bank, account.number) == key:
            return account
    for account in accounts:
        if account.customer_id == identifier.strip():
            return account
    return None


# Each payer's own account at iHela Credit Union, by iHela client code: what the lookup
# answers when asked by e-mail, phone, username or client code (DOC2; ihela-api.md §3.4).
PAYER_ACCOUNTS = {"2": "000002-01", "3": "000001-01", "4": "000016-01", "5": "000042-01"}


def find_customer_account(bank: Bank, identifier: str) -> Account | None:
    """What a lookup answers: an account by number or customer id, else (at iHela Credit
    Union only) the account of the payer named by e-mail, phone, username or client code."""
    account = find_account(bank, identifier)
    if account is not None or bank.slug != IHELA_BANK_SLUG:
        return account
    payer = find_payer(identifier)
    number = PAYER_ACCOUNTS.get(payer.ihela_code) if payer else None
    return find_account(bank, number) if number else None
