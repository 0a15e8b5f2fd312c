"""The fake services a run drives: the tax bureau and the reference merchant client."""
