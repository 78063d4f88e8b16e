"""What every response says to the browser about itself: where its scripts, styles and frames may
come from, that its type is the one it names, and what it tells other sites of where a link was.

The pages hold no inline script or style (the stylesheet is a static file), so the
Content-Security-Policy can forbid both: text from a tracker that slips into a page unescaped
still runs nothing. Webhook answers, errors and the API carry the same headers; they cost nothing
there and leave no response without them.
"""
from __future__ import annotations

from flask import Response

HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers that do not read frame-ancestors
    "Referrer-Policy": "same-origin",
}


def secure_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
