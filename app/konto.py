"""Area stub: filled in by the identity work (issue 4)."""

from quart import Blueprint

blueprint = Blueprint("konto", __name__)
