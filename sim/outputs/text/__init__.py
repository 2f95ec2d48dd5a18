"""What the commands print: each command's tables and lines, from typed results."""
