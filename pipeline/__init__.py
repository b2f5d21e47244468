"""The flow of a referral across the apps, and the only place it crosses them:
tracking (attribute, record stages) → fraud (assess; it returns a decision) → tracking
(apply the decision and the stages) → rewards (sync). See `pipeline.flow` and
docs/architecture.md."""
