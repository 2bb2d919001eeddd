"""The words seeded data is made of: names, titles, descriptions, kinds of work and labels."""

__all__ = [
    "FIRST_NAMES",
    "KINDS",
    "LABEL_NAMES",
    "LAST_NAMES",
    "OBJECTS",
    "PROJECT_NAMES",
    "SENTENCES",
    "VERBS",
]

PROJECT_NAMES = (
    "Apollo Borealis Cassini Dragonfly Europa Fermi Gemini Hubble Icarus Juno Kepler Lunar "
    "Mariner Nova Orion Pioneer Quasar Rosetta Soyuz Titan Ulysses Voyager Webb Xuntian Yutu "
    "Zenith"
).split()
FIRST_NAMES = (
    "Ada Alan Amara Ana Ben Chen Dara Elena Emeka Farah Grace Hiro Ines Ivan Jamal Kai Lea Lina "
    "Malik Maya Noor Omar Priya Rosa Sam Sofia Tariq Uma Yara Zoe"
).split()
LAST_NAMES = (
    "Adeyemi Berg Costa Dubois Eriksen Fischer Garcia Haddad Ito Jensen Kowalski Larsen Moreau "
    "Nakamura Okafor Petrov Quinn Rossi Silva Tanaka Novak Weber Yilmaz Zhang"
).split()
VERBS = (
    "Fix Review Update Write Test Deploy Refactor Document Investigate Design Migrate Optimize "
    "Plan Triage Automate"
).split()
OBJECTS = [
    "login timeout", "invoice export", "search index", "release notes", "payment webhook",
    "onboarding email", "CSV import", "dashboard filters", "API rate limits", "backup job",
    "settings page", "error reporting", "mobile layout", "database migration", "test coverage",
    "audit log", "access control", "cache invalidation", "report template", "notification queue",
]  # fmt: skip
SENTENCES = [
    "Customer reported this twice last week.", "Blocked until the design review is done.",
    "Needs a follow-up with the data team.", "See the incident notes from Monday.",
    "Pair with QA before merging.", "Affects the nightly batch.", "Low risk, small change.",
    "Check the logs for the failing requests.", "Coordinate with support before release.",
    "Estimate is rough; revisit after the spike.", "Keep backwards compatibility.",
    "Numbers in the weekly report depend on this.",
]  # fmt: skip
# The tracker's type of work item, as Jira names its standard ones.
KINDS = ("Task", "Bug", "Story", "Epic")
# Labels, most used first (a task's first label is drawn with weights that fall along the list).
LABEL_NAMES = (
    "backend frontend customer tech-debt api database performance ux security regression "
    "documentation infrastructure"
).split()
