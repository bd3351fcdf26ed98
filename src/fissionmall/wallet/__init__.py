"""储值 (stored value): top-up packages with bonus, the wallet ledger, the wallet as a tender at pay time,
refunds back to it, top-up refunds of unspent principal, manual adjustments (docs/wallet.md)."""
