app_name = "compilations"
urlpatterns: list = []
