"""Imports every domain's models, so metadata (and Alembic) sees all tables."""

from lms.assignments import models as assignment_models
from lms.auth import models as auth_models
from lms.catalog import models as catalog_models
from lms.change import models as change_models
from lms.common import lease as lease_model
from lms.frameworks import models as framework_models
from lms.gaps import models as gap_models
from lms.learning import models as learning_models
from lms.notifications import models as notification_models
from lms.people import models as people_models
from lms.privacy import models as privacy_models
from lms.sessions import models as session_models
from lms.skills import models as skill_models
from lms.strategy import models as strategy_models
from lms.targets import models as target_models

DOMAIN_MODELS = (
    people_models,
    auth_models,
    privacy_models,
    framework_models,
    catalog_models,
    learning_models,
    target_models,
    skill_models,
    gap_models,
    assignment_models,
    lease_model,
    notification_models,
    session_models,
    change_models,
    strategy_models,
)
