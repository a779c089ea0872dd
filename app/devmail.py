"""Area stub: /dev/mail, the demo mail catcher's inbox (demo mode only)."""

from quart import Blueprint

blueprint = Blueprint("devmail", __name__)
