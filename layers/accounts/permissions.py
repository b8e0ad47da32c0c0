"""What a caller may change: `can(principal, action, target)`, and `require(...)` that raises when not.

Every write path (HTTP route, CLI command, import) asks here before it writes, with the row's place as a
`Target`. The rules are one table, RULES: action -> {role: scope}; `admin` may do everything. Scopes:

- TENANT: the target lies in the caller's kab/kota (bappeda, pokja, opd, ...).
- AREA: the target lies inside the caller's area: a kecamatan contains its kelurahan (code prefixes), a kelurahan
  contains every lingkungan/RT in it, a kepling's 'kelurahan/label' area contains only that lingkungan/RT.
- OWN: AREA, and the target was created by the caller (a kepling edits only its own proposals).
- AGENCY: the target is in the caller's kab/kota and addressed to the caller's agency (opd).
- ASSIGNED: the target's kab/kota is one the konsultan is assigned to.

The asset register (issue 12; layers/planning/asset_cases.py), with the asset's place as target (its tenant, the
handed-over activity's kelurahan, its recipient OPD or else the activity's target agency):
- asset.manage: handover details (berita acara number, date and file, value, recipient, as-built geometry drawn or
  uploaded as a file): bappeda and pokja of the tenant, who run serah terima, and the OPD that received the asset
  (AGENCY); lurah, camat, kepling and konsultan do not.
- asset.inspect: condition inspections and O&P (maintenance) records: bappeda, pokja, the receiving OPD, and the
  lurah of the asset's kelurahan (AREA: the KPP/BKM that keeps a community asset reports through the kelurahan).
- group.manage: community groups (KPP, BKM/LKM) and their members: bappeda, pokja, and the lurah of the group's
  kelurahan (AREA). Members' names and phones are personal data: readable by the group's own tenant only.

Reads are not decided here (row filters in layers/accounts/access.py do that). A write path first loads its row through
the row filter (not visible: 404, so other tenants' rows are not even confirmed to exist), then calls `require`
(visible but not allowed: 403; anonymous: 401).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from geo.errors import Forbidden, Unauthorized
from layers.accounts.access import Principal

TENANT, AREA, OWN, AGENCY, ASSIGNED = "tenant", "area", "own", "agency", "assigned"
_PLANNERS = {"bappeda": TENANT, "pokja": TENANT}
_ANY_TENANT_ROLE = {"kepling": TENANT, "lurah": TENANT, "camat": TENANT, "opd": TENANT, "bappeda": TENANT,
                    "pokja": TENANT, "konsultan": ASSIGNED}

RULES: dict[str, dict[str, str]] = {
    # A kepling proposes in its lingkungan; planners enter funded works and blocked proposals they override.
    "proposal.create": {"kepling": AREA, **_PLANNERS},
    "proposal.edit": {"kepling": OWN},
    "proposal.verify": {"lurah": AREA, "camat": AREA},  # verify or return, at kelurahan or kecamatan level
    "proposal.review": {"opd": AGENCY},  # an OPD reviews the proposals sent to it
    "proposal.approve": dict(_PLANNERS),
    "overlap.override": dict(_PLANNERS),  # with a reason, recorded by the caller
    "decree.manage": dict(_PLANNERS),
    "slum_area.manage": dict(_PLANNERS),
    "survey.manage": dict(_PLANNERS),
    "export": dict(_ANY_TENANT_ROLE),  # non-public rows of a tenant; public rows need no permission
    "audit.read": dict(_PLANNERS),
    "asset.manage": {"opd": AGENCY, **_PLANNERS},  # handover details and as-built geometry of an asset
    "asset.inspect": {"opd": AGENCY, "lurah": AREA, **_PLANNERS},  # inspections and maintenance (O&P)
    "group.manage": {"lurah": AREA, **_PLANNERS},  # KPP, BKM/LKM and their members
    # Issue 12 items 3-4: a progress step whose photo failed a check is confirmed or rejected by the lurah of the
    # kelurahan, the target OPD or pokja (never by whoever reported it: layers/planning/evidence.py).
    "progress.verify": {"lurah": AREA, "opd": AGENCY, "pokja": TENANT},
    # Plans (RPLP/RKM of a kelurahan: its lurah enters them for the BKM, which has no account; RP2KP-KP/SIAP and
    # RKPD: bappeda/pokja) and linking an activity to the plan item it implements.
    "plan.manage": {"lurah": AREA, **_PLANNERS},
    # Budget lines (DPA, kode rekening, allocated and realised): bappeda/pokja, and the OPD whose activity it funds
    # (it reports realisation). Community boards (BKM) have no account: their money is entered by pokja.
    "budget.manage": {"opd": AGENCY, **_PLANNERS},
    "user.manage": {},  # admin only
}
ACTIONS = tuple(RULES)


@dataclass(frozen=True)
class Target:
    """Where the row being written lies, and whose it is. Fill what the action needs."""

    tenant: str | None = None  # the kab/kota (PP.KK)
    area_code: str | None = None  # the most precise Kemendagri code known, usually the kelurahan
    area_label: str | None = None  # the lingkungan/RT inside that kelurahan (an activity's proposer_area)
    owner: str | None = None  # the username that created it
    agency: str | None = None  # the OPD it is addressed to (an activity's target_agency)

    @property
    def effective_tenant(self) -> str | None:
        if self.tenant:
            return self.tenant
        return self.area_code[:5] if self.area_code and len(self.area_code) >= 5 else None


def decide(principal: Principal, action: str, target: Target | None = None) -> str | None:
    """None when allowed; otherwise the reason it is not, as a sentence."""
    if action not in RULES:
        raise ValueError(f"unknown action '{action}'; known: {', '.join(ACTIONS)}")
    if principal.is_public:
        return f"login required: anonymous visitors may not {action}"
    if principal.role == "admin":
        return None
    scope = RULES[action].get(principal.role)
    who = f"{principal.role} {principal.username or ''}".strip()
    if scope is None:
        allowed = ", ".join(sorted({*RULES[action], "admin"}))
        return f"{who} may not {action} (allowed roles: {allowed})"
    target = target or Target()
    tenant = target.effective_tenant
    if scope == ASSIGNED:
        if tenant is None or tenant not in principal.tenants:
            return f"{who} is not assigned to kab/kota {tenant or '(none given)'}"
        return None
    if tenant is None or tenant != principal.tenant:
        return f"{who} works in kab/kota {principal.tenant}, not {tenant or '(none given)'}"
    if scope == TENANT:
        return None
    if scope == AGENCY:
        if not principal.agency or not target.agency or normalise_label(target.agency) != normalise_label(
                principal.agency):
            return f"{who} reviews proposals sent to {principal.agency}, not to {target.agency or '(no agency)'}"
        return None
    if not area_contains(principal.area_code, target.area_code, target.area_label):
        place = "/".join(p for p in (target.area_code, target.area_label) if p) or "(no area given)"
        return f"{who} works in {principal.area_code}, which does not contain {place}"
    if scope == OWN and (target.owner is None or target.owner != principal.username):
        return f"{who} may only {action} its own proposals (this one is {target.owner or 'nobody'}'s)"
    return None


def can(principal: Principal, action: str, target: Target | None = None) -> bool:
    return decide(principal, action, target) is None


def require(principal: Principal, action: str, target: Target | None = None) -> None:
    """Raise Unauthorized (anonymous: 401) or Forbidden (403) with the reason, unless allowed."""
    reason = decide(principal, action, target)
    if reason is None:
        return
    if principal.is_public:
        raise Unauthorized(reason, details={"action": action})
    raise Forbidden(reason, details={"action": action, "role": principal.role, "area": principal.area_code})


def require_role(principal: Principal, action: str) -> None:
    """Raise unless the caller's role may do `action` somewhere: checked before looking a target up, so a caller
    who may never do it learns nothing about which targets exist (403, not 404). `require` with the target follows.
    """
    if principal.is_public or (principal.role != "admin" and principal.role not in RULES[action]):
        require(principal, action)


def area_contains(area: str | None, code: str | None, label: str | None = None) -> bool:
    """Whether the area 'CODE' or 'CODE/LABEL' contains the place (code, label).

    Codes contain by Kemendagri prefix ('12.71.01' contains '12.71.01.1001'); a labelled area (a kepling's
    lingkungan/RT) contains only the same label in the same kelurahan, labels compared after `normalise_label`.
    """
    if not area or not code:
        return False
    area_code, _, area_label = area.partition("/")
    if not (code == area_code or code.startswith(area_code + ".")):
        return False
    if not area_label:
        return True
    return code == area_code and label is not None and normalise_label(label) == normalise_label(area_label)


_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
_ROMAN_RE = re.compile(r"^[ivxlc]+$")
_ABBREVIATIONS = {"ling": "lingkungan", "lingk": "lingkungan", "lk": "lingkungan", "dsn": "dusun"}


def _roman(token: str) -> int | None:
    if not _ROMAN_RE.match(token):
        return None
    values = [_ROMAN[c] for c in token]
    total = sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))
    return total if 0 < total < 200 else None


def normalise_label(label: str) -> str:
    """'Lingkungan 02', 'lingkungan 2', 'Ling. II' and 'LINGKUNGAN  2' are one label; 'RT 003/RW 01' = 'rt 3/rw 1'."""
    tokens: list[str] = []
    for token in re.findall(r"[a-z]+|\d+|/", label.casefold()):
        if token.isdigit():
            token = str(int(token))
        else:
            roman = _roman(token) if tokens else None  # a numeral after a word: 'Lingkungan IV'
            token = str(roman) if roman is not None else _ABBREVIATIONS.get(token, token)
        tokens.append(token)
    return " ".join(tokens)
