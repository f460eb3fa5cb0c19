# Run by `manage.py shell -c` in GlitchTip's web container (roles/sentry/tasks/token.yml): the API
# token this collection uses, for the first superuser. GlitchTip makes tokens only for a logged-in
# session (POST /api/0/api-tokens/) or from its shell; the model is apps/api_tokens/models.py in
# GlitchTip's backend (token: 64 hex characters; scopes: a bit field of Sentry's scope names).
import os
from django.contrib.auth import get_user_model
from apps.api_tokens.models import APIToken
user = get_user_model().objects.get(email=os.environ["SENTRY_TOKEN_EMAIL"])
token = APIToken.objects.create(user=user, label="microops.stack")
token.add_permissions(["org:read", "org:write", "org:admin", "team:read", "team:write", "team:admin",
                       "project:read", "project:write", "project:admin", "event:read"])
print(token.token)
