"""Demo data and assets used to seed a sample shop."""
