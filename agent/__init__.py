"""The station agent: analyses trim files beside the machine and shows the verdict."""
