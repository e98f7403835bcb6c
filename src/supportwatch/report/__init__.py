"""Usage insights of a period and the self-contained HTML report built from them."""
