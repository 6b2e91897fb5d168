"""What the tests share besides fixtures: databases, the API client, factories, pages."""
