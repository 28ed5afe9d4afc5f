def main() -> None:  # placeholder until the CLI lands
    pass
