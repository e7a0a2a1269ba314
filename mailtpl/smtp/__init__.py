"""Sending through SMTP, configured by the SMTP_* variables, with errors that say what to change."""
from .aio import AsyncMailer
from .config import ConfigError, SmtpConfig
from .errors import (SmtpAuthError, SmtpConnectError, SmtpDailyLimitError, SmtpError, SmtpInsecureAuthError,
                     SmtpRecipientsRefused, SmtpSenderRejected, SmtpStartTlsError, SmtpTlsError, SmtpTransientError)
from .mailer import Mailer, SendResult

__all__ = ["SmtpConfig", "ConfigError", "Mailer", "SendResult", "SmtpError", "SmtpAuthError", "SmtpConnectError",
           "SmtpTlsError", "SmtpStartTlsError", "SmtpSenderRejected", "SmtpRecipientsRefused",
           "SmtpInsecureAuthError", "SmtpTransientError", "AsyncMailer", "SmtpDailyLimitError"]
