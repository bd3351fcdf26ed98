"""A/B tests (实验): weighted arms of promotions or coupon templates, deterministic assignment, results."""
