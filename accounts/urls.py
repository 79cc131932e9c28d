from django.urls import path

from .views import auth, invitations, orgs, passwords, team, tokens

app_name = "accounts"

urlpatterns = [
    path("signup/", auth.signup, name="signup"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("password-reset/", passwords.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        passwords.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        passwords.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        passwords.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("password/", passwords.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", passwords.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("members/", team.members, name="members"),
    path("members/invite/", team.invite, name="invite"),
    path("members/<int:pk>/role/", team.member_role, name="member_role"),
    path("members/<int:pk>/remove/", team.member_remove, name="member_remove"),
    path(
        "invitations/<uuid:pk>/revoke/",
        team.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invite/<str:token>/", invitations.invitation_accept, name="invitation_accept"),
    path("api-tokens/", tokens.api_tokens, name="api_tokens"),
    path("api-tokens/<uuid:pk>/revoke/", tokens.api_token_revoke, name="api_token_revoke"),
    path("switch-org/", orgs.switch_org, name="switch_org"),
    path("no-organisation/", orgs.no_org, name="no_org"),
]
