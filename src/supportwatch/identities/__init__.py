"""How identity keys read in lists, and how a person names one back (pure, no AWS).

`short` gives the one shortened form of identities that every renderer uses (CLI tables, alert
lists, the HTML report); `match` finds the identity that a shortened form, a suffix or a near miss
typed on the command line means.
"""
