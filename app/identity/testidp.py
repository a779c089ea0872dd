"""Stub: the local SAML test identity provider (development and CI only)."""

from quart import Blueprint, Quart

blueprint = Blueprint("testidp", __name__, url_prefix="/test-idp")


def install(app: Quart) -> None:
    """Register the test IdP; refuses in production mode (SECURITY.md, negative test 12)."""
    if app.config["SETTINGS"].production:
        raise RuntimeError("the test identity provider never runs in production mode")
    app.register_blueprint(blueprint)
