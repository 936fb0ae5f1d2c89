"""The campaign's read-only API (campaigns, phases, periods)."""

from rest_framework import serializers, viewsets

from .models import Campaign, Phase, ReportingPeriod


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "title", "city", "document_title", "issued_on", "starts_on", "ends_on", "is_active"]


class PhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Phase
        fields = ["id", "campaign", "order", "name", "starts_on", "ends_on", "description"]


class PeriodSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = ReportingPeriod
        fields = ["id", "campaign", "label", "year", "quarter", "starts_on", "ends_on", "due_on", "state"]


class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CampaignSerializer
    queryset = Campaign.objects.all()


class PhaseViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PhaseSerializer
    queryset = Phase.objects.order_by("campaign", "order")
    filterset_fields = ["campaign"]


class PeriodViewSet(viewsets.ReadOnlyModelViewSet):
    """报告期。state：upcoming 未开始 / open 报送中 / closed 已截止。"""

    serializer_class = PeriodSerializer
    queryset = ReportingPeriod.objects.order_by("campaign", "year", "quarter")
    filterset_fields = ["campaign", "year", "state"]


def register(router) -> None:
    router.register("campaigns", CampaignViewSet, basename="campaign")
    router.register("phases", PhaseViewSet, basename="phase")
    router.register("periods", PeriodViewSet, basename="period")
