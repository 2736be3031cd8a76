"""Statistical checks on episode returns."""
