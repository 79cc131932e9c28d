"""Say what the outgoing-request rule decides about URLs, without sending anything:
`python manage.py check_outbound https://crm.internal.example/hooks ...`."""

from django.core.management.base import BaseCommand

from mapsite import outbound_rule


class Command(BaseCommand):
    help = (
        "Show the networks OUTBOUND_ALLOW_NETWORKS lets through and, for each URL given, "
        "the addresses its host resolves to and whether Slack or a webhook may use it. "
        "Nothing is sent."
    )

    def add_arguments(self, parser):
        parser.add_argument("urls", nargs="*", help="URLs to check (their paths are not shown)")

    def handle(self, *args, **options):
        networks = outbound_rule.allowed_networks()
        listed = ", ".join(str(n) for n in networks) or "none (only public addresses)"
        self.stdout.write(f"OUTBOUND_ALLOW_NETWORKS: {listed}")
        for url in options["urls"]:
            verdict = outbound_rule.explain(url)
            self.stdout.write("")
            self.stdout.write(verdict.origin or "(not a URL)")
            if verdict.origin and not verdict.resolved:
                self.stdout.write("  does not resolve from here")
            for address, refusal, network in verdict.addresses:
                if refusal:
                    self.stdout.write(f"  {address}: refused ({refusal})")
                elif network is not None:
                    self.stdout.write(f"  {address}: allowed (OUTBOUND_ALLOW_NETWORKS {network})")
                else:
                    self.stdout.write(f"  {address}: allowed (public)")
            if verdict.problem:
                self.stdout.write(self.style.ERROR(f"  refused: {verdict.problem}"))
            else:
                self.stdout.write(self.style.SUCCESS("  accepted"))
