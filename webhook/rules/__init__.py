"""Pure container-security checks over a normalised pod view. No I/O anywhere below here."""
