"""The verified artifact: manifest, dependency lock, flavors, writing, reading and verification."""
