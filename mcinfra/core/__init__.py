"""The core: models, handler ABCs, managers, errors, validation. Imports no CSP SDK."""
