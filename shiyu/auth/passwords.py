"""The password policy: at least 10 characters from at least 3 of the 4 classes (lower case,
upper case, digits, other), not the username, not a common password."""

from __future__ import annotations

import re

from shiyu.errors import InvalidInput

MIN_LENGTH = 10
MIN_CLASSES = 3
_CLASSES = (
    re.compile(r"[a-z]"),
    re.compile(r"[A-Z]"),
    re.compile(r"\d"),
    re.compile(r"[^A-Za-z\d]"),
)
# the passwords guessed first (leaked-password top lists, Chinese ones included); compared
# case-insensitively and with trailing digits and symbols removed, so "Password123!" counts
COMMON = frozenset(
    {
        "password",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "qwerty",
        "qwertyuiop",
        "asdfghjkl",
        "zxcvbnm",
        "1qaz2wsx",
        "1q2w3e4r",
        "qazwsx",
        "abc",
        "abcd",
        "abcdef",
        "abc123",
        "admin",
        "administrator",
        "root",
        "welcome",
        "letmein",
        "iloveyou",
        "monkey",
        "dragon",
        "master",
        "sunshine",
        "princess",
        "football",
        "baseball",
        "superman",
        "trustno1",
        "changeme",
        "default",
        "secret",
        "test",
        "guest",
        "user",
        "login",
        "woaini",
        "woaini1314",
        "aini",
        "nihao",
        "wangyi",
        "zhangwei",
        "wang",
        "li",
        "zhang",
        "shiyu",
        "shiyu@",
        "china",
        "beijing",
        "shanghai",
        "huawei",
        "aa",
        "a",
    }
)
POLICY_TEXT = (
    "密码至少10位，须包含大写字母、小写字母、数字、符号中的至少3类，不得与用户名相同或过于常见"
)


def _stem(password: str) -> str:
    return re.sub(r"[\d\W_]+$", "", password.lower())


def problem(password: str, username: str | None = None) -> str | None:
    """Why the password is refused (a Chinese sentence), or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"密码至少{MIN_LENGTH}位"
    if sum(1 for c in _CLASSES if c.search(password)) < MIN_CLASSES:
        return "密码须包含大写字母、小写字母、数字、符号中的至少3类"
    lowered = password.lower()
    if username and (lowered == username.lower() or _stem(password) == username.lower()):
        return "密码不得与用户名相同"
    if lowered in COMMON or _stem(password) in COMMON or not _stem(password):
        return "密码过于常见，请换一个"
    return None


def require_acceptable(password: str, username: str, *, field: str) -> None:
    """Raise a 422 naming `field` when the password breaks the policy (services call this
    where the schema cannot know the username: password change, an admin's reset)."""
    reason = problem(password, username)
    if reason:
        raise InvalidInput(
            reason,
            code="auth.weak_password",
            details=[{"loc": ["body", field], "msg": reason, "type": "password_policy"}],
        )
