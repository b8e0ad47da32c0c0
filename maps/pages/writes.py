"""Write controls on the pages follow the caller's role: a caller who may not write sees why, in Bahasa Indonesia,
instead of a form whose sending fails (403, or 401 for a visitor who has not signed in).

The check is the role's and the kab/kota's (layers/accounts/permissions.py RULES); the finer scopes (a kepling's
own lingkungan, an OPD's own proposals) are left to the API, which names the place it refused.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from layers.accounts.access import Principal
from layers.accounts.permissions import ASSIGNED, RULES

ROLE_NAMES = {"kepling": "kepala lingkungan", "lurah": "lurah", "camat": "camat", "opd": "OPD", "bappeda": "Bappeda",
              "pokja": "Pokja PKP", "konsultan": "konsultan", "admin": "admin", "publik": "pengunjung umum"}


def _who_may(action: str) -> str:
    names = [ROLE_NAMES.get(role, role) for role in RULES[action]]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " atau " + names[-1]


def refusal(principal: Principal, action: str, tenant: str | None, doing: str) -> str | None:
    """Why this caller may not `doing` (e.g. 'mengirim usulan') on a page of `tenant`, as plain Indonesian text;
    None when the role may."""
    if principal.role == "admin":
        return None
    scope = RULES[action].get(principal.role)
    if principal.is_public:
        return f"Anda belum masuk. Masuk sebagai {_who_may(action)} untuk {doing}."
    role = ROLE_NAMES.get(principal.role, principal.role)
    if scope is None:
        return f"Peran {role} tidak dapat {doing}; yang dapat: {_who_may(action)}."
    tenants = principal.tenants if scope == ASSIGNED else (principal.tenant,)
    if tenant and tenant not in tenants:
        yours = ", ".join(t for t in tenants if t) or "-"
        return f"Akun Anda ({role}) untuk kab/kota {yours}, bukan {tenant}: Anda tidak dapat {doing} di sini."
    return None


def notice_html(principal: Principal, text: str, path: str) -> str:
    """The refusal as a note on the page; a visitor gets a link to sign in and come back."""
    login = (f' <a href="/auth/login?next={quote(path, safe="/")}">Masuk</a>' if principal.is_public else "")
    return f'<p class="pesan info tidak-boleh" id="tidak-boleh" role="note">{escape(text)}{login}</p>'


def guard_form(body: str, principal: Principal, action: str, tenant: str | None, doing: str, path: str,
               form: str, submit: str) -> str:
    """`body` with the refusal before the form whose opening tag starts with `form`, and its submit button (the
    tag starting with `submit`) hidden and disabled, so nothing is sent that would fail; unchanged when allowed."""
    text = refusal(principal, action, tenant, doing)
    if text is None:
        return body
    if form not in body or submit not in body:
        raise ValueError(f"the page body has no {form!r} or {submit!r} to guard")
    body = body.replace(form, notice_html(principal, text, path) + form, 1)
    return body.replace(submit, submit + " hidden disabled", 1)
