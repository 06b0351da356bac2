"""Local stand-ins for the services Dialdeck talks to, answering over real HTTP (no mocks of our code)."""
