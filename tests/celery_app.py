"""The Celery app of tests/test_celery.py: mailtpl's task with short backoffs, so faults retry within seconds."""
from celery import Celery

from mailtpl.celery import register

app = Celery("mailtpl-tests")  # broker and result backend from CELERY_BROKER_URL / CELERY_RESULT_BACKEND
send = register(app, retry_backoff=1, retry_backoff_max=2, max_retries=20)
