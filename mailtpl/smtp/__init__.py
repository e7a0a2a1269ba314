"""Sending through SMTP, configured by the SMTP_* variables, with errors that say what to change."""
from .aio import AsyncMailer
from .config import ConfigError, SmtpConfig
from .errors import (SmtpAuthError, SmtpConnectError, SmtpConnectionLost, SmtpDailyLimitError, SmtpError,
                     SmtpGreetingError, SmtpInsecureAuthError, SmtpRecipientsRefused, SmtpSenderRejected,
                     SmtpStartTlsError, SmtpTlsError, SmtpTlsRequiredError, SmtpTransientError)
from .mailer import Mailer, SendResult

__all__ = ["SmtpConfig", "ConfigError", "Mailer", "SendResult", "SmtpError", "SmtpAuthError", "SmtpConnectError",
           "SmtpTlsError", "SmtpStartTlsError", "SmtpSenderRejected", "SmtpRecipientsRefused",
           "SmtpInsecureAuthError", "SmtpTransientError", "SmtpGreetingError", "SmtpConnectionLost",
           "SmtpTlsRequiredError", "AsyncMailer", "SmtpDailyLimitError"]
