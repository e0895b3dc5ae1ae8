"""Recognising secrets so that none is ever echoed back: :func:`redact` blanks anything key-shaped
in a message before it is printed, :func:`looks_like_secret` and :func:`secret_key_name` let
``germinate check`` refuse keys written into task.yaml.

"Key-shaped" is deliberately broad: the well-known vendor prefixes, bearer tokens, JWTs, the
password of a URL (``https://user:password@host``), and any long token that mixes upper case,
lower case and digits. Hashes (lower-case hex), paths and
identifiers do not match, so messages stay readable.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"

_VENDOR = re.compile(
    r"""
    (?:sk|rk|pk)-(?:ant-|proj-|live-|test-|or-)?[A-Za-z0-9_\-]{16,}   # OpenAI, Anthropic, Stripe, OpenRouter
    | AKIA[0-9A-Z]{16}                                                 # AWS access key id
    | gh[pousr]_[A-Za-z0-9]{30,} | github_pat_[A-Za-z0-9_]{30,}        # GitHub
    | xox[abprs]-[A-Za-z0-9\-]{10,}                                    # Slack
    | AIza[0-9A-Za-z_\-]{30,}                                          # Google
    | hf_[A-Za-z0-9]{30,}                                              # Hugging Face
    | glpat-[A-Za-z0-9_\-]{20,}                                        # GitLab
    | eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}    # a JWT
    | (?i:bearer)\s+[A-Za-z0-9_\-.=+/]{12,}                            # an Authorization header value
    """,
    re.VERBOSE,
)
# any long run of token characters (not '/': paths stay whole); a key only when it mixes the three
# character classes
_TOKEN = re.compile(r"(?<![A-Za-z0-9_\-+=])[A-Za-z0-9_\-+=]{32,}(?![A-Za-z0-9_\-+=])")
_SECRET_NAME = re.compile(
    r"(?:^|[_\-.])(?:api[_\-]?key|apikey|secret(?:[_\-]?key)?|password|passwd|(?:access|auth|bearer|refresh|session)?"
    r"[_\-]?token|authorization|credentials?)$",
    re.IGNORECASE,
)


# the password of a URL's user information: scheme://user:PASSWORD@host
_URL_PASSWORD = re.compile(r"(?<=://)([^/?#@\s:]*):[^/?#@\s]+(?=@)")


def _mixed(token: str) -> bool:
    return any(c.isupper() for c in token) and any(c.islower() for c in token) and any(c.isdigit() for c in token)


def redact(text: str) -> str:
    """``text`` with every key-shaped substring replaced by ``[redacted]``."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{REDACTED}", text)
    text = _VENDOR.sub(REDACTED, text)
    return _TOKEN.sub(lambda m: REDACTED if _mixed(m.group(0)) else m.group(0), text)


def looks_like_secret(value: str) -> bool:
    """Whether ``value`` holds something key-shaped."""
    return redact(value) != value


def url_with_password(value: str) -> bool:
    """Whether ``value`` holds a URL that carries a password (``https://user:password@host``)."""
    return bool(_URL_PASSWORD.search(value))


def secret_key_name(name: str) -> bool:
    """Whether a settings key names a secret (``api_key``, ``x-api-key``, ``client_secret``,
    ``password``, ``access_token``...); ``api_key_env``, which names a variable, does not."""
    return bool(_SECRET_NAME.search(name))
