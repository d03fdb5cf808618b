"""The 2026 national AI projects as data.

Published facts (MSIT announcement of 7 April 2026): 52 projects from 25 ministries, 2,832 B200
GPUs, and the seven named projects below with their ministries and GPU counts. The other 45
projects and 18 ministries were not published: they are invented here and flagged as sample data,
sized so that the published totals stay exact. Start dates, usage and the placement of servers on
clusters are demo data for every project.
"""

from __future__ import annotations

import datetime as dt

ANNOUNCED_ON = dt.date(2026, 4, 7)
GOVERNMENT_GPUS_HEADLINE = 10_000  # "about 10,000" (1만 장): the inventory's own count is shown beside it
PROGRAMME_PROJECTS = 52
PROGRAMME_MINISTRIES = 25
PROGRAMME_GPUS = 2_832
PROGRAMME_SERVERS = 354
PROPOSALS = 121
PROPOSING_MINISTRIES = 28

SELECTION_CRITERIA = [
    ("국가 전략적 중요성", "National strategic importance"),
    ("기술·사회적 파급 효과", "Technological and social ripple effect"),
    ("정부 주도 수행 필요성", "Need for government-led execution"),
]

# (code, Korean name, English name, sample?)
MINISTRIES = [
    ("motie", "산업통상부", "Ministry of Trade and Industry", False),
    ("msit", "과학기술정보통신부", "Ministry of Science and ICT", False),
    ("mss", "중소벤처기업부", "Ministry of SMEs and Startups", False),
    ("kma", "기상청", "Korea Meteorological Administration", False),
    ("mohw", "보건복지부", "Ministry of Health and Welfare", False),
    ("mcst", "문화체육관광부", "Ministry of Culture, Sports and Tourism", False),
    ("mof", "해양수산부", "Ministry of Oceans and Fisheries", False),
    # The other 18 selected ministries were not named: these are sample data.
    ("moe", "교육부", "Ministry of Education", True),
    ("mnd", "국방부", "Ministry of National Defense", True),
    ("mois", "행정안전부", "Ministry of the Interior and Safety", True),
    ("molit", "국토교통부", "Ministry of Land, Infrastructure and Transport", True),
    ("mafra", "농림축산식품부", "Ministry of Agriculture, Food and Rural Affairs", True),
    ("mcee", "기후에너지환경부", "Ministry of Climate, Energy and Environment", True),
    ("moel", "고용노동부", "Ministry of Employment and Labor", True),
    ("moj", "법무부", "Ministry of Justice", True),
    ("mofe", "재정경제부", "Ministry of Finance and Economy", True),
    ("mfds", "식품의약품안전처", "Ministry of Food and Drug Safety", True),
    ("knpa", "경찰청", "Korean National Police Agency", True),
    ("nfa", "소방청", "National Fire Agency", True),
    ("moip", "지식재산처", "Ministry of Intellectual Property", True),
    ("kfs", "산림청", "Korea Forest Service", True),
    ("kdca", "질병관리청", "Korea Disease Control and Prevention Agency", True),
    ("kcs", "관세청", "Korea Customs Service", True),
    ("mpva", "국가보훈부", "Ministry of Patriots and Veterans Affairs", True),
    ("mogef", "성평등가족부", "Ministry of Gender Equality and Family", True),
]

# The seven projects named in the announcement: rank, ministry, GPUs, official Korean title,
# English paraphrase, domain, purpose (Korean, from the announcement's summaries). Start dates (planned, actual) are demo data.
NAMED_PROJECTS = [
    {
        "rank": 1, "ministry": "motie", "gpus": 304, "domain": "mobility",
        "title_ko": "소프트웨어 정의 차량(SDV) 전환 및 인공지능 미래 차 인공지능 통합 학습 기반(E2E) 자율주행 모델 고도화",
        "title_en": "End-to-end autonomous driving foundation model for the shift to software-defined vehicles",
        "purpose": "실제 도로 데이터로 만든 가상 환경에서 학습하여 인지·판단·제어를 하나로 처리하는 자율주행 인공지능 기초 모형을 개발합니다.",
        "planned_start": dt.date(2026, 4, 15), "actual_start": dt.date(2026, 4, 20),
    },
    {
        "rank": 2, "ministry": "msit", "gpus": 256, "domain": "manufacturing",
        "title_ko": "산업 특화 기초 모형 사업(파운데이션 모델 프로젝트)",
        "title_en": "Industry-specialised foundation model project",
        "purpose": "제조·로봇·모빌리티 등 유망 산업에 특화된 기초 모형을 개발하고 공개(오픈소스)하여 민간의 인공지능 서비스 개발을 촉진합니다.",
        "planned_start": dt.date(2026, 4, 1), "actual_start": dt.date(2026, 4, 8),
    },
    {
        "rank": 3, "ministry": "mss", "gpus": 200, "domain": "startup",
        "title_ko": "혁신 인공지능 창업 초기 기업(스타트업) 전략 기술 상용화 및 인공지능 전환 가속 사업(프로젝트)",
        "title_en": "Commercialising strategic technology of innovative AI start-ups and accelerating AI transformation",
        "purpose": "바이오·에너지 등 전략 산업의 인공지능 모델 개발을 지원하고, 대기업의 거대언어모델을 인공지능 창업 기업에 개방해 분야별 해법을 만듭니다.",
        "planned_start": dt.date(2026, 5, 1), "actual_start": dt.date(2026, 5, 11),
    },
    {
        "rank": 4, "ministry": "kma", "gpus": 128, "domain": "climate",
        "title_ko": "한국형 인공지능 기상·기후 기초 모형(파운데이션 모델) 개발",
        "title_en": "Korean AI weather and climate foundation model",
        "purpose": "초단기 강수부터 중기·계절 전망까지 하나로 예측하는 체계를 만들어 재난 대응, 에너지, 농업에 활용합니다.",
        "planned_start": dt.date(2026, 6, 1), "actual_start": dt.date(2026, 6, 1),
    },
    {
        "rank": 5, "ministry": "mohw", "gpus": 80, "domain": "health",
        "title_ko": "인공지능 기본 의료",
        "title_en": "AI basic healthcare",
        "purpose": "음성 기반 진료 기록 요약, 영상 판독 보조, 진료 의뢰·회송 기록 요약 인공지능과 보건의료 인공지능 중앙 허브를 구축합니다.",
        "planned_start": dt.date(2026, 7, 1), "actual_start": None, "expected_start": dt.date(2026, 12, 1),
    },
    {
        "rank": 6, "ministry": "mcst", "gpus": 64, "domain": "content",
        "title_ko": "인공지능 융합콘텐츠 제작 활성화",
        "title_en": "AI-converged content production",
        "purpose": "콘텐츠 기획·제작·유통·소비 전 과정에 인공지능을 적용하고 K-콘텐츠에 맞는 모델을 개발합니다.",
        "planned_start": dt.date(2026, 9, 1), "actual_start": dt.date(2026, 9, 14),
    },
    {
        "rank": 7, "ministry": "mof", "gpus": 64, "domain": "ocean",
        "title_ko": "북극항로 운영을 위한 실측 기반 통합 예측 기술 개발",
        "title_en": "Measurement-based integrated prediction for Arctic shipping routes",
        "purpose": "해빙·기상 변화를 반영한 안전한 북극항로 벤치마크와 다중모달 북극 기초 모형을 개발합니다.",
        "planned_start": dt.date(2027, 1, 4), "actual_start": None,
    },
]

# 45 sample projects (ministry, domain, servers, Korean title, English title). 217 servers in all.
SAMPLE_PROJECTS = [
    ("moe", "education", 10, "AI 맞춤형 학습 진단 모델 개발", "AI model for personalised learning diagnosis"),
    ("moe", "education", 3, "교원 업무 지원 한국어 교육 특화 언어모델", "Korean education language model for teachers' work"),
    ("mnd", "security", 12, "국방 영상정보 분석 인공지능 기초 모형", "Defence imagery analysis foundation model"),
    ("mnd", "security", 6, "국방 군수 수요 예측 인공지능", "AI for defence logistics demand forecasting"),
    ("mois", "public", 6, "공공 민원 상담 인공지능 에이전트", "AI agent for public civil-petition counselling"),
    ("mois", "law", 4, "재난 안전 상황 인지 멀티모달 모델", "Multimodal model for disaster situation awareness"),
    ("molit", "mobility", 12, "도시 교통 디지털트윈 인공지능 모델", "AI model for an urban traffic digital twin"),
    ("molit", "mobility", 4, "건설 현장 안전 영상 분석 인공지능", "AI for construction-site safety video analysis"),
    ("mafra", "agriculture", 5, "스마트팜 작물 생육 예측 기초 모형", "Crop growth prediction foundation model for smart farms"),
    ("mafra", "agriculture", 2, "가축 질병 조기 탐지 인공지능", "AI for early detection of livestock disease"),
    ("mcee", "energy", 10, "전력 수요·재생에너지 발전 예측 인공지능", "AI for power demand and renewable generation forecasting"),
    ("mcee", "energy", 4, "탄소 배출 감시 위성영상 인공지능", "Satellite-imagery AI for monitoring carbon emissions"),
    ("moel", "public", 3, "일자리 매칭 및 직업훈련 추천 인공지능", "AI for job matching and training recommendations"),
    ("moj", "law", 3, "법률 문서 요약·검색 언어모델", "Language model for summarising and searching legal documents"),
    ("mofe", "finance", 4, "거시경제 실시간 예측 인공지능", "AI for real-time macroeconomic nowcasting"),
    ("mfds", "health", 3, "의약품 안전성 신호 탐지 인공지능", "AI for detecting drug safety signals"),
    ("knpa", "law", 4, "범죄 예방 영상 분석 인공지능", "Video analysis AI for crime prevention"),
    ("nfa", "law", 2, "119 신고 접수 음성 인식·분류 인공지능", "Speech recognition and triage AI for 119 emergency calls"),
    ("moip", "science", 3, "특허 심사 지원 기술 언어모델", "Technical language model supporting patent examination"),
    ("kfs", "climate", 2, "산불 확산 예측 인공지능", "AI for forecasting wildfire spread"),
    ("kdca", "health", 4, "감염병 확산 예측 인공지능 모델", "AI model for forecasting infectious-disease spread"),
    ("kcs", "finance", 2, "수입 화물 위험 선별 인공지능", "AI for risk screening of imported cargo"),
    ("mpva", "public", 1, "보훈 대상자 맞춤형 복지 안내 인공지능", "AI for tailored welfare guidance to veterans"),
    ("mogef", "public", 1, "청소년 상담 지원 인공지능", "AI supporting youth counselling"),
    ("msit", "science", 16, "과학 연구 데이터 기반 과학 기초 모형", "Science foundation model from research data"),
    ("msit", "science", 8, "한국어 멀티모달 공공 데이터 기초 모형", "Korean multimodal foundation model from public data"),
    ("msit", "manufacturing", 6, "인공지능 반도체 설계 자동화 모델", "AI model for automating AI-chip design"),
    ("msit", "science", 5, "양자·소재 시뮬레이션 인공지능 가속", "AI acceleration of quantum and materials simulation"),
    ("motie", "manufacturing", 8, "제조 공정 품질 예측 인공지능", "AI for manufacturing process quality prediction"),
    ("motie", "manufacturing", 6, "휴머노이드 로봇 행동 기초 모형", "Behaviour foundation model for humanoid robots"),
    ("motie", "energy", 5, "이차전지 소재 탐색 인공지능", "AI for discovering secondary-battery materials"),
    ("mss", "startup", 6, "소상공인 경영 지원 인공지능 서비스", "AI services supporting small businesses"),
    ("mss", "startup", 4, "중소 제조기업 인공지능 전환 공동 모델", "Shared AI-transformation model for small manufacturers"),
    ("kma", "climate", 6, "위험 기상 초단기 예측 고도화", "Improved very-short-range forecasting of severe weather"),
    ("kma", "climate", 3, "지진·해일 조기 경보 인공지능", "AI for early earthquake and tsunami warnings"),
    ("mohw", "health", 6, "희귀질환 진단 보조 인공지능", "AI assisting the diagnosis of rare diseases"),
    ("mohw", "health", 5, "돌봄 로봇 대화 언어모델", "Conversational language model for care robots"),
    ("mcst", "content", 4, "한국어 음성 합성·더빙 인공지능", "AI for Korean speech synthesis and dubbing"),
    ("mcst", "content", 3, "문화유산 디지털 복원 인공지능", "AI for digital restoration of cultural heritage"),
    ("mof", "ocean", 4, "해양 기상·해류 예측 인공지능", "AI for ocean weather and current forecasting"),
    ("mof", "ocean", 2, "자율운항 선박 상황 인식 모델", "Situation-awareness model for autonomous ships"),
    ("molit", "public", 3, "국토 위성영상 변화 탐지 인공지능", "AI for change detection in national satellite imagery"),
    ("mnd", "security", 2, "사이버 위협 탐지 인공지능", "AI for cyber-threat detection"),
    ("mois", "public", 2, "공공 문서 자동 분류·요약 인공지능", "AI for classifying and summarising public documents"),
    ("moe", "education", 3, "대학 연구 공동 활용 인공지능 모델", "Shared AI model for university research"),
]

# Providers' government GPUs as reported in the press (background, not the announcement). Each
# provider's share is split over clusters here for the demo; the split is illustrative.
PROVIDERS = [
    {
        "code": "nhn-cloud", "name_ko": "NHN클라우드", "name_en": "NHN Cloud",
        "source_note": "Press reports: 6,120 B200 for government use",
        "clusters": [
            {"code": "nhn-b200-a", "name": "NHN Cloud B200 A", "gpu_model": "B200", "servers": 384, "maintenance": 0},
            {"code": "nhn-b200-b", "name": "NHN Cloud B200 B", "gpu_model": "B200", "servers": 381, "maintenance": 4},
        ],
    },
    {
        "code": "kakao", "name_ko": "카카오", "name_en": "Kakao",
        "source_note": "Press reports: 2,040 B200 for government use",
        "clusters": [
            {"code": "kakao-b200", "name": "Kakao B200", "gpu_model": "B200", "servers": 255, "maintenance": 2},
        ],
    },
    {
        "code": "naver-cloud", "name_ko": "네이버클라우드", "name_en": "Naver Cloud",
        "source_note": "Press reports: 2,296 H200 for government use",
        "clusters": [
            {"code": "naver-h200", "name": "Naver Cloud H200", "gpu_model": "H200", "servers": 287, "maintenance": 3},
        ],
    },
]


def sample_schedule(index: int) -> dict:
    """Demo start dates for sample project `index` (0-based): planned starts spread from April 2026
    to February 2027; of those already due, most started within a fortnight and some are delayed."""
    month = 4 + index % 11  # April 2026 .. February 2027
    year = 2026 + (month - 1) // 12
    month = (month - 1) % 12 + 1
    planned = dt.date(year, month, 1 + (index * 7) % 20)
    delayed = index % 5 == 3  # every fifth project has not started on time
    actual = None if delayed or planned > dt.date(2026, 11, 1) else planned + dt.timedelta(days=index % 12)
    expected = None
    if delayed:
        expected = max(planned + dt.timedelta(days=90), dt.date(2027, 1, 4))
    return {"planned_start": planned, "actual_start": actual, "expected_start": expected}


def end_of_project(planned_start: dt.date) -> dt.date:
    """Projects run twelve months from their planned start (the earlier call's longest term)."""
    year, month = planned_start.year + 1, planned_start.month
    return dt.date(year, month, 1) - dt.timedelta(days=1)
