"""GitLab: `X-Gitlab-Token` carries the secret token itself; it must equal the configured secret."""

from __future__ import annotations

from ..model import Header
from .base import Key, Scheme, SignedRequest, Verdict, same
from .registry import register
from .secrets import mask_value
from .shared import utf8


@register
class GitLab(Scheme):
    algorithm = "gitlab"
    label = "secret token"
    header = "X-Gitlab-Token"
    headers = ("X-Gitlab-Token",)
    token = True

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        # A token is never quoted: `received` is masked and reasons give lengths only.
        value = req.headers.get(key.header)
        if value is None:
            return self.missing(key.header)
        if not value.strip():
            return Verdict("malformed", f"`{key.header}` is empty; GitLab sends the webhook's secret token there.", mask_value(value))
        # One token is sent; repeated header lines (joined with ", ") are each tried as well.
        tokens = dict.fromkeys([value, *req.headers.get_all(key.header), *value.split(", ")])
        matched = False
        for token in tokens:
            matched |= same(utf8(token.strip()), utf8(key.secret))
        if matched:
            return Verdict("valid", f"`{key.header}` equals the secret token.", mask_value(value))
        return Verdict(
            "invalid",
            f"`{key.header}` ({len(value.strip())} characters) does not equal this entry's secret token ({len(key.secret)} characters); copy the token from the GitLab webhook settings.",
            mask_value(value),
        )

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        return [(key.header, key.secret)]
