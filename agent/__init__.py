"""nn-tutor's user-facing side: the terminal commands, the chat graph and its nodes."""
