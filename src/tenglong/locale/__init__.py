"""Message catalogues: ``<feature>.yaml`` files mapping a key to its zh-Hans and English text."""
