"""The accounts pages, by concern: sign-up, sign-in and sign-out (``auth``), password
reset and change (``passwords``), the team page (``team``), accepting an invitation
(``invitations``), org switching and the page for a user without one (``orgs``), and a
member's API tokens (``tokens``); accounts/urls.py routes to each."""
