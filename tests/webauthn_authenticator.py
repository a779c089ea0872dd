"""A software passkey for tests without a browser, built with python-fido2.

It answers the options JSON our server sends the way a browser plus authenticator would:
the JSON shapes of ``RegistrationResponse`` / ``AuthenticationResponse`` (base64url), which
py_webauthn's ``parse_*_credential_json`` read. Keyword switches make the answers an
attacker or a broken device would send: another origin, another RP id, no user
verification, a chosen counter, a bogus signature, someone else's challenge.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    Aaguid,
    AttestationObject,
    AttestedCredentialData,
    AuthenticationResponse,
    AuthenticatorAssertionResponse,
    AuthenticatorAttestationResponse,
    AuthenticatorData,
    CollectedClientData,
    RegistrationResponse,
)

#: What the Quart test client looks like to the server.
ORIGIN = "http://localhost"
RP_ID = "localhost"
AAGUID = Aaguid(bytes.fromhex("6a3b9f0e2c5d4e7f8a1b2c3d4e5f6071"))

FLAG = AuthenticatorData.FLAG


class SoftAuthenticator:
    """One ES256 credential on a pretend device; its counter goes up on every use."""

    def __init__(self, *, origin: str = ORIGIN, rp_id: str = RP_ID) -> None:
        self.origin = origin
        self.rp_id = rp_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.counter = 0
        self.user_handle: bytes | None = None

    @property
    def id(self) -> str:
        """The credential id as the server stores it (base64url)."""
        return websafe_encode(self.credential_id)

    def _attestation(self, rp_hash: bytes, flags: AuthenticatorData.FLAG) -> AttestationObject:
        public = ES256.from_cryptography_key(self.key.public_key())
        data = AttestedCredentialData.create(AAGUID, self.credential_id, public)
        auth_data = AuthenticatorData.create(rp_hash, flags, self.counter, data)
        return AttestationObject.create("none", auth_data, {})

    def register(
        self,
        options_json: str,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        uv: bool = True,
    ) -> str:
        """The answer to navigator.credentials.create(options)."""
        options = json.loads(options_json)
        self.user_handle = websafe_decode(options["user"]["id"])
        client_data = CollectedClientData.create(
            type=CollectedClientData.TYPE.CREATE,
            challenge=websafe_decode(options["challenge"]),
            origin=origin or self.origin,
        )
        flags = FLAG.UP | FLAG.AT | (FLAG.UV if uv else 0)
        rp_hash = hashlib.sha256((rp_id or options["rp"]["id"]).encode()).digest()
        response = RegistrationResponse(
            raw_id=self.credential_id,
            response=AuthenticatorAttestationResponse(
                client_data=client_data, attestation_object=self._attestation(rp_hash, flags)
            ),
        )
        body: dict[str, Any] = dict(response)
        body["response"] = {**body["response"], "transports": ["internal", "hybrid"]}
        return json.dumps(body)

    def sign_in(
        self,
        options_json: str,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        uv: bool = True,
        counter: int | None = None,
        bogus_signature: bool = False,
        challenge: bytes | None = None,
    ) -> str:
        """The answer to navigator.credentials.get(options); counts up unless told a counter."""
        options = json.loads(options_json)
        if counter is None:
            self.counter += 1
            counter = self.counter
        client_data = CollectedClientData.create(
            type=CollectedClientData.TYPE.GET,
            challenge=challenge if challenge is not None else websafe_decode(options["challenge"]),
            origin=origin or self.origin,
        )
        flags = FLAG.UP | (FLAG.UV if uv else 0)
        rp_hash = hashlib.sha256((rp_id or options.get("rpId") or self.rp_id).encode()).digest()
        auth_data = AuthenticatorData.create(rp_hash, flags, counter)
        signature = self.key.sign(auth_data + client_data.hash, ec.ECDSA(hashes.SHA256()))
        if bogus_signature:
            other = ec.generate_private_key(ec.SECP256R1())
            signature = other.sign(auth_data + client_data.hash, ec.ECDSA(hashes.SHA256()))
        response = AuthenticationResponse(
            raw_id=self.credential_id,
            response=AuthenticatorAssertionResponse(
                client_data=client_data,
                authenticator_data=auth_data,
                signature=signature,
                user_handle=self.user_handle,
            ),
        )
        return json.dumps(dict(response))
