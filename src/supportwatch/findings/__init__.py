"""Where alerts go besides the SNS topic (contract section 11), as pure data: a Security Hub finding
(ASFF), an EventBridge entry and a chat notification per alert, and the publisher that sends them
after the topic took the alert. The AWS calls are in aws/findings.py."""
