"""Prior settings of the face-value model: a small, documented, overridable object.

All parameters are on the log-odds scale of "assurance honoured". The defaults are weakly
informative (see ``docs/model.md`` for what each implies on the probability scale).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from .errors import InputError


@dataclass(frozen=True)
class Priors:
    """Normal means/sds and half-normal scales of the model's parameters."""

    intercept_mu: float = 0.0  # log-odds of honouring for an ordinary case in an average state
    intercept_sigma: float = 1.5  # 95% of prior mass for that probability lies in about (0.05, 0.95)
    sigma_state: float = 1.0  # half-normal scale of between-state spread
    high_profile_mu: float = 0.0  # no prior lean on whether high-profile cases fare better or worse
    high_profile_sigma: float = 1.0
    sigma_state_high_profile: float = 0.5  # half-normal scale of state-specific case-type differences
    pts_mu: float = 0.0  # effect of one world-wide SD of the PTS mean; no prior lean on its sign
    pts_sigma: float = 1.0

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, (int, float)) or v != v or v in (float("inf"), float("-inf")):
                raise InputError(f"Priors.{f.name} must be a finite number, got {v!r}")
            if (f.name.startswith("sigma") or f.name.endswith("sigma")) and v <= 0:
                raise InputError(f"Priors.{f.name} is a scale and must be > 0, got {v!r}")

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "Priors":
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise InputError(f"unknown prior setting(s) {sorted(unknown)}; known: {[f.name for f in fields(cls)]}")
        return cls(**d)
