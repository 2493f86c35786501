"""Assets: the hosts an organisation knows, with how critical they are and who owns them."""
