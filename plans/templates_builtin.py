"""Built-in plan templates.

Every milestone and task carries an offset in calendar days *before the target close
date*; ``layout`` lays them out backwards from the room's close date (a date on a
weekend moves to the Friday before it). A plan never starts in the past: when the
template needs more days than are left before the close, its offsets are compressed
to fit between today and the close date, keeping their order and relative spacing.
"""

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TaskSpec:
    title: str
    days_before_close: int
    side: str  # "buyer" | "seller"


@dataclass(frozen=True)
class MilestoneSpec:
    title: str
    days_before_close: int
    lead_side: str
    track: str
    completion_condition: str
    depends_on: tuple[int, ...] = ()  # indexes of earlier milestones
    tasks: tuple[TaskSpec, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PlanTemplateSpec:
    slug: str
    name: str
    audience: str
    description: str
    milestones: tuple[MilestoneSpec, ...]

    @property
    def task_count(self):
        return sum(len(m.tasks) for m in self.milestones)


def schedule_backwards(close_date: datetime.date, days_before_close: int) -> datetime.date:
    """``close_date`` minus the offset; a Saturday or Sunday becomes the Friday before."""
    day = close_date - datetime.timedelta(days=days_before_close)
    return _weekday_within(day, datetime.date.min, close_date)


# A milestone with fewer days than this between what it waits for (or today) and its
# own date, where the template planned more, is reported as squeezed.
SQUEEZED_DAYS = 2


@dataclass
class Layout:
    """Dates for a template's items on one room: ``milestones[i]`` and
    ``tasks[i][j]`` follow the spec's order."""

    milestones: list
    tasks: list
    compressed: bool = False  # offsets scaled to fit between today and the close
    squeezed: list = field(default_factory=list)  # titles of milestones left too little time
    needed_days: int = 0  # what the template plans between its first item and the close
    available_days: int = 0

    @property
    def message(self):
        """What the seller is told when the template had to be compressed ("" if not)."""
        if not self.compressed:
            return ""
        text = (
            f"This template plans {self.needed_days} days before the close date and "
            f"{self.available_days} are left, so its dates were fitted between today and "
            "the close date, in the same order."
        )
        if self.squeezed:
            names = ", ".join(f"“{title}”" for title in self.squeezed)
            text += f" Squeezed (under {SQUEEZED_DAYS} days each): {names}."
        return text


def _weekday_within(day, earliest, latest):
    """A weekend ``day`` moves to the Friday before, or, when that is before
    ``earliest``, to the Monday after if that is not after ``latest``."""
    if day.weekday() < 5:
        return day
    friday = day - datetime.timedelta(days=day.weekday() - 4)
    if friday >= earliest:
        return friday
    monday = day + datetime.timedelta(days=7 - day.weekday())
    return monday if monday <= latest else day


def layout(spec, close, today):
    """Lay ``spec`` out backwards from ``close``; never before ``today`` (when the close
    itself is not after today, everything lands on the later of the two)."""
    offsets = [m.days_before_close for m in spec.milestones] + [
        t.days_before_close for m in spec.milestones for t in m.tasks
    ]
    needed = max(offsets, default=0)
    available = max(0, (close - today).days)
    scale = 1.0 if needed <= available else (available / needed if needed else 1.0)
    latest = max(close, today)

    def date_for(offset):
        day = latest - datetime.timedelta(days=round(offset * scale))
        return _weekday_within(day, today, latest)

    milestone_dates = [date_for(m.days_before_close) for m in spec.milestones]
    task_dates = [[date_for(t.days_before_close) for t in m.tasks] for m in spec.milestones]
    result = Layout(
        milestone_dates,
        task_dates,
        compressed=scale < 1.0,
        needed_days=needed,
        available_days=available,
    )
    if result.compressed:
        for m, day in zip(spec.milestones, milestone_dates, strict=True):
            before = [milestone_dates[d] for d in m.depends_on] or [today]
            planned = [spec.milestones[d].days_before_close for d in m.depends_on] or [needed]
            window = (day - max(before)).days
            planned_window = max(planned) - m.days_before_close
            if window < SQUEEZED_DAYS and planned_window > window:
                result.squeezed.append(m.title)
    return result


T = TaskSpec
M = MilestoneSpec

LIGHT = PlanTemplateSpec(
    slug="light",
    name="Light",
    audience="SMB · 6 tasks",
    description="Three decision points for a short, single-approver purchase.",
    milestones=(
        M(
            "Solution validated",
            21,
            "buyer",
            "technical",
            "Champion's written confirmation that the trial met the success criteria",
            tasks=(
                T("Agree success criteria for the trial", 28, "buyer"),
                T("Run the trial with the team", 22, "buyer"),
            ),
        ),
        M(
            "Commercial agreement",
            10,
            "seller",
            "procurement",
            "Order form with agreed pricing sent to the buyer",
            depends_on=(0,),
            tasks=(
                T("Send proposal and pricing", 16, "seller"),
                T("Confirm budget owner approval", 11, "buyer"),
            ),
        ),
        M(
            "Contract signed",
            0,
            "buyer",
            "legal",
            "Countersigned order form",
            depends_on=(1,),
            tasks=(
                T("Send order form for e-signature", 3, "seller"),
                T("Sign the order form", 0, "buyer"),
            ),
        ),
    ),
)

STANDARD = PlanTemplateSpec(
    slug="standard",
    name="Standard",
    audience="Mid-market · 12 tasks",
    description="Technical validation, security review, business case, legal and signature.",
    milestones=(
        M(
            "Technical validation complete",
            35,
            "buyer",
            "technical",
            "Evaluation summary signed off by the technical evaluator",
            tasks=(
                T("Kick-off call and agree evaluation criteria", 49, "seller"),
                T("Set up sandbox with buyer's sample data", 45, "seller"),
                T("Run evaluation against agreed criteria", 37, "buyer"),
            ),
        ),
        M(
            "Security review complete",
            21,
            "buyer",
            "security",
            "Sign-off email from the security lead",
            depends_on=(0,),
            tasks=(
                T("Send SOC 2 report and security questionnaire answers", 33, "seller"),
                T("Review security documentation", 25, "buyer"),
                T("Answer follow-up security questions", 22, "seller"),
            ),
        ),
        M(
            "Business case approved",
            14,
            "buyer",
            "business",
            "Economic buyer's approval of the business case",
            depends_on=(0,),
            tasks=(
                T("Draft business case with ROI", 24, "seller"),
                T("Present business case to the economic buyer", 16, "buyer"),
            ),
        ),
        M(
            "Legal review complete",
            5,
            "buyer",
            "legal",
            "Redlined MSA agreed by both legal teams",
            depends_on=(1, 2),
            tasks=(T("Send MSA and order form", 18, "seller"), T("Return redlines", 10, "buyer")),
        ),
        M(
            "Contract signed",
            0,
            "buyer",
            "procurement",
            "Countersigned contract",
            depends_on=(3,),
            tasks=(
                T("Send contract for e-signature", 2, "seller"),
                T("Sign the contract", 0, "buyer"),
            ),
        ),
    ),
)

ENTERPRISE = PlanTemplateSpec(
    slug="enterprise",
    name="Enterprise",
    audience="Enterprise · 20 tasks",
    description="Full buying committee: validation, security, procurement, executive sign-off.",
    milestones=(
        M(
            "Technical validation complete",
            56,
            "buyer",
            "technical",
            "Proof-of-concept report signed off by the technical evaluator",
            tasks=(
                T("Map stakeholders and decision process", 84, "seller"),
                T("Agree proof-of-concept success criteria", 77, "buyer"),
                T("Provision proof-of-concept environment", 72, "seller"),
                T("Run proof of concept", 60, "buyer"),
                T("Write proof-of-concept results report", 57, "seller"),
            ),
        ),
        M(
            "Security review complete",
            35,
            "buyer",
            "security",
            "Sign-off email from the CISO or infosec lead",
            depends_on=(0,),
            tasks=(
                T("Send SOC 2 report, pen-test summary and questionnaire", 63, "seller"),
                T("Complete vendor risk assessment", 45, "buyer"),
                T("Architecture review with IT", 40, "buyer"),
                T("Close open security findings", 36, "seller"),
            ),
        ),
        M(
            "Executive presentation",
            28,
            "seller",
            "business",
            "Economic buyer confirms the go decision in writing",
            depends_on=(0,),
            tasks=(
                T("Build business case and ROI model", 42, "seller"),
                T("Validate ROI model with finance", 33, "buyer"),
                T("Present to the executive committee", 29, "seller"),
            ),
        ),
        M(
            "Procurement and legal complete",
            10,
            "buyer",
            "legal",
            "Final contract agreed by legal and procurement",
            depends_on=(1, 2),
            tasks=(
                T("Vendor onboarding in procurement system", 30, "buyer"),
                T("Send MSA, DPA and order form", 30, "seller"),
                T("Return legal redlines", 21, "buyer"),
                T("Agree final commercial terms", 14, "seller"),
                T("Data processing agreement signed off", 11, "buyer"),
            ),
        ),
        M(
            "Contract signed",
            0,
            "buyer",
            "procurement",
            "Countersigned contract and purchase order",
            depends_on=(3,),
            tasks=(
                T("Send contract for signature", 4, "seller"),
                T("Sign contract", 1, "buyer"),
                T("Issue purchase order", 0, "buyer"),
            ),
        ),
    ),
)

BUILTIN_TEMPLATES = {t.slug: t for t in (LIGHT, STANDARD, ENTERPRISE)}


# --- onboarding, appended when a won deal is handed over to Customer Success ----------


def schedule_forward(start: datetime.date, days_after: int) -> datetime.date:
    """``start`` plus the offset; a Saturday or Sunday becomes the Monday after."""
    day = start + datetime.timedelta(days=days_after)
    if day.weekday() >= 5:
        day += datetime.timedelta(days=7 - day.weekday())
    return day


@dataclass(frozen=True)
class OnboardingTask:
    title: str
    days_after_signature: int
    side: str  # "buyer" | "seller"; seller-side tasks go to the Customer Success owner


@dataclass(frozen=True)
class OnboardingMilestone:
    title: str
    days_after_signature: int
    lead_side: str
    track: str
    completion_condition: str
    tasks: tuple[OnboardingTask, ...]


OT = OnboardingTask
ONBOARDING = (
    OnboardingMilestone(
        "Onboarding kick-off",
        7,
        "seller",
        "business",
        "Kick-off held; success criteria and owners confirmed in writing",
        (
            OT("Schedule the kick-off with both teams", 2, "seller"),
            OT("Confirm success criteria and the go-live date", 7, "buyer"),
        ),
    ),
    OnboardingMilestone(
        "Integration",
        28,
        "buyer",
        "technical",
        "Integration runs end to end in the customer's environment",
        (
            OT("Provision accounts and single sign-on", 10, "buyer"),
            OT("Connect the integrations and migrate data", 24, "seller"),
            OT("Customer verifies the data end to end", 28, "buyer"),
        ),
    ),
    OnboardingMilestone(
        "Training",
        42,
        "seller",
        "business",
        "Every named user trained; attendance list shared",
        (
            OT("Train the administrators", 35, "seller"),
            OT("Train the end users", 42, "seller"),
        ),
    ),
    OnboardingMilestone(
        "Go-live",
        56,
        "buyer",
        "business",
        "Go-live sign-off from the executive sponsor",
        (
            OT("Go-live readiness review", 52, "seller"),
            OT("Go-live sign-off", 56, "buyer"),
        ),
    ),
)
