"""supportwatch: who in an AWS organisation uses AWS Support Recommendations, exactly."""

SUPPORT_EVENT_SOURCE = "supportrecommendations.amazonaws.com"
KNOWN_EVENT_NAMES = frozenset({"StartSupportTroubleshooting", "GetSupportTroubleshootingResponse"})
