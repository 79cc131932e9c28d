"""The demo organisation, Northwind Software, as ``manage.py seed_demo`` creates it: its
sample room with Acme Corp (``sample``), a small pipeline of other deals, open and
closed, won and lost, with and without buyer engagement (``pipeline``), and the whole
seed in order (``seed.demo_create``). Here: the demo's sign-ins, which the command
prints and the browser tests use."""

DEMO_EMAIL = "demo@northwind.example"
DEMO_PASSWORD = "northwind-demo-2026"
MANAGER_EMAIL = "manager@northwind.example"
REP_EMAIL = "jordan@northwind.example"
