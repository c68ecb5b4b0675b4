"""The demo users of the sandbox's identity provider (sandbox/identity_provider.py), with the claims
a real provider would be set up to send: name, email, `roles` (Tower role names) and, for merchant
users, `merchant` (a sandbox shop handle, see tower.toml `shops`). Plain data, so the sign-in page
can list them without loading the provider."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoUser:
    subject: str                 # what the provider's sign-in page shows on the button
    name: str
    email: str
    roles: tuple[str, ...]
    merchant: str | None = None  # a sandbox shop handle: this user sees only that merchant

    def claims(self) -> dict[str, object]:
        claims: dict[str, object] = {"name": self.name, "email": self.email, "email_verified": True,
                                     "roles": list(self.roles)}
        if self.merchant:
            claims["merchant"] = self.merchant
        return claims


DEMO_USERS = (
    DemoUser("viewer", "Vera Viewer", "vera.viewer@tower.example", ("viewer",)),
    DemoUser("operator", "Oscar Operator", "oscar.operator@tower.example", ("operator",)),
    DemoUser("approver", "April Approver", "april.approver@tower.example", ("approver",)),
    DemoUser("analyst", "Ana Analyst", "ana.analyst@tower.example", ("analyst",)),
    DemoUser("admin", "Adam Admin", "adam.admin@tower.example", ("admin",)),
    DemoUser("nordic-nest", "Nina Nordic Nest", "nina@nordic-nest.example", ("viewer",),
             merchant="nordic-nest"),
    DemoUser("casa-verde", "Carlos Casa Verde", "carlos@casa-verde.example", ("viewer", "analyst"),
             merchant="casa-verde"),
)
