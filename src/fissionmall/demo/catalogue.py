"""Demo catalogue for a sample Chinese shop.

Plain data only. Money is always integer fen (1 yuan = 100 fen).
"""

from typing import Any

CATEGORIES: list[str] = [
    "生鲜水果",
    "休闲零食",
    "美妆个护",
    "家居日用",
    "数码配件",
    "母婴用品",
]

PRODUCTS: list[dict[str, Any]] = [
    # 生鲜水果
    {
        "title": "赣南脐橙",
        "category": "生鲜水果",
        "description": "江西赣州产地直发，果肉饱满多汁，酸甜适口。",
        "labels": ["热销", "包邮"],
        "skus": [
            {"name": "5斤装", "price_fen": 2990, "stock": 320},
            {"name": "10斤装", "price_fen": 4990, "stock": 180},
        ],
    },
    {
        "title": "烟台红富士苹果",
        "category": "生鲜水果",
        "description": "山东烟台果园现摘，脆甜爽口，单果约80mm。",
        "labels": ["包邮"],
        "skus": [
            {"name": "3斤装", "price_fen": 1990, "stock": 260},
            {"name": "5斤装", "price_fen": 2980, "stock": 150},
        ],
    },
    {
        "title": "海南贵妃芒果",
        "category": "生鲜水果",
        "description": "树上自然成熟，果香浓郁，细腻无丝。",
        "labels": ["新品"],
        "skus": [
            {"name": "2斤装", "price_fen": 2590, "stock": 90},
            {"name": "5斤装", "price_fen": 4880, "stock": 60},
        ],
    },
    # 休闲零食
    {
        "title": "每日坚果混合装",
        "category": "休闲零食",
        "description": "六种坚果果干科学配比，独立小包装，办公室必备。",
        "labels": ["热销"],
        "skus": [
            {"name": "25g×30袋", "price_fen": 8990, "list_price_fen": 12900, "stock": 400},
            {"name": "25g×7袋", "price_fen": 2590, "stock": 600},
        ],
    },
    {
        "title": "手撕牛肉干",
        "category": "休闲零食",
        "description": "内蒙古草原牛肉，风干工艺，越嚼越香。",
        "labels": [],
        "skus": [
            {"name": "五香味 250g", "price_fen": 5980, "stock": 120},
            {"name": "麻辣味 250g", "price_fen": 5980, "stock": 110},
        ],
    },
    {
        "title": "黄油曲奇饼干",
        "category": "休闲零食",
        "description": "新西兰进口黄油烘焙，入口酥松，奶香十足。",
        "labels": ["新品", "包邮"],
        "skus": [
            {"name": "铁盒 454g", "price_fen": 3990, "stock": 200},
        ],
    },
    # 美妆个护
    {
        "title": "玻尿酸补水面膜",
        "category": "美妆个护",
        "description": "高浓度玻尿酸精华，深层补水，敏感肌可用。",
        "labels": ["热销"],
        "skus": [
            {"name": "10片装", "price_fen": 6900, "stock": 350},
            {"name": "30片装", "price_fen": 17900, "stock": 80},
        ],
    },
    {
        "title": "氨基酸洁面乳",
        "category": "美妆个护",
        "description": "温和氨基酸配方，清洁不紧绷，适合日常早晚使用。",
        "labels": [],
        "skus": [
            {"name": "120g", "price_fen": 5900, "stock": 240},
        ],
    },
    {
        "title": "滋润护手霜礼盒",
        "category": "美妆个护",
        "description": "乳木果油配方，清爽不黏腻，三支装送礼自用皆宜。",
        "labels": ["包邮"],
        "skus": [
            {"name": "30g×3支", "price_fen": 4900, "stock": 150},
        ],
    },
    # 家居日用
    {
        "title": "原木抽纸",
        "category": "家居日用",
        "description": "100%原生木浆，柔韧亲肤，湿水不易破。",
        "labels": ["热销", "包邮"],
        "skus": [
            {"name": "3层100抽×24包", "price_fen": 4590, "stock": 500},
            {"name": "3层100抽×6包", "price_fen": 1490, "stock": 800},
        ],
    },
    {
        "title": "纯棉四件套",
        "category": "家居日用",
        "description": "40支精梳长绒棉，亲肤透气，越洗越柔软。",
        "labels": ["新品"],
        "skus": [
            {"name": "1.5米床 灰色", "price_fen": 19900, "stock": 60},
            {"name": "1.8米床 灰色", "price_fen": 22900, "stock": 45},
            {"name": "1.8米床 米白", "price_fen": 22900, "stock": 0},
        ],
    },
    {
        "title": "不锈钢保温杯",
        "category": "家居日用",
        "description": "316不锈钢内胆，12小时长效保温，一键弹盖。",
        "labels": [],
        "skus": [
            {"name": "500ml 奶白", "price_fen": 8900, "stock": 130},
            {"name": "500ml 雾蓝", "price_fen": 8900, "stock": 95},
        ],
    },
    # 数码配件
    {
        "title": "20W快充充电器",
        "category": "数码配件",
        "description": "PD协议快充，兼容主流手机，小巧便携。",
        "labels": ["热销"],
        "skus": [
            {"name": "单头", "price_fen": 3900, "stock": 420},
            {"name": "含1米数据线", "price_fen": 4900, "stock": 300},
        ],
    },
    {
        "title": "蓝牙无线耳机",
        "category": "数码配件",
        "description": "主动降噪，单次续航6小时，通话清晰。",
        "labels": ["新品", "包邮"],
        "skus": [
            {"name": "白色", "price_fen": 19900, "stock": 75},
            {"name": "黑色", "price_fen": 19900, "stock": 68},
        ],
    },
    {
        "title": "磁吸手机支架",
        "category": "数码配件",
        "description": "强力磁吸，360度旋转，车载桌面两用。",
        "labels": [],
        "skus": [
            {"name": "车载款", "price_fen": 2990, "stock": 210},
            {"name": "桌面款", "price_fen": 3590, "stock": 160},
        ],
    },
    # 母婴用品
    {
        "title": "婴儿纸尿裤",
        "category": "母婴用品",
        "description": "超薄透气，3D立体防漏，宝宝整夜干爽。",
        "labels": ["热销", "包邮"],
        "skus": [
            {"name": "M码 64片", "price_fen": 12900, "stock": 140},
            {"name": "L码 54片", "price_fen": 12900, "stock": 120},
            {"name": "XL码 44片", "price_fen": 12900, "stock": 90},
        ],
    },
    {
        "title": "婴儿棉柔巾",
        "category": "母婴用品",
        "description": "纯棉材质，干湿两用，呵护宝宝娇嫩肌肤。",
        "labels": [],
        "skus": [
            {"name": "100抽×6包", "price_fen": 5990, "stock": 260},
        ],
    },
    {
        "title": "宝宝纯棉连体衣",
        "category": "母婴用品",
        "description": "A类纯棉面料，无骨缝制，前开扣穿脱方便。",
        "labels": ["新品"],
        "skus": [
            {"name": "浅黄 66cm", "price_fen": 7900, "stock": 50},
            {"name": "浅黄 73cm", "price_fen": 7900, "stock": 40},
            {"name": "浅蓝 80cm", "price_fen": 7900, "stock": 35},
        ],
    },
    # A product with a spec matrix (颜色 × 尺码), 划线价, merchant codes and weights: one combination sold out.
    {
        "title": "婴儿纯棉连体衣",
        "category": "母婴用品",
        "description": "A类纯棉，无骨缝制，按扣开档，换尿布更方便。",
        "labels": ["新品"],
        "specs": [{"name": "颜色", "values": ["奶白", "浅粉", "雾蓝"]}, {"name": "尺码", "values": ["66", "73", "80"]}],
        "skus": [
            {
                "spec": {"颜色": "奶白", "尺码": "66"},
                "price_fen": 5900,
                "list_price_fen": 8900,
                "stock": 60,
                "code": "BB-11",
                "weight_g": 150,
            },
            {
                "spec": {"颜色": "奶白", "尺码": "73"},
                "price_fen": 6400,
                "list_price_fen": 9400,
                "stock": 50,
                "code": "BB-12",
                "weight_g": 170,
            },
            {
                "spec": {"颜色": "奶白", "尺码": "80"},
                "price_fen": 6900,
                "list_price_fen": 9900,
                "stock": 40,
                "code": "BB-13",
                "weight_g": 190,
            },
            {
                "spec": {"颜色": "浅粉", "尺码": "66"},
                "price_fen": 5900,
                "list_price_fen": 8900,
                "stock": 60,
                "code": "BB-21",
                "weight_g": 150,
            },
            {
                "spec": {"颜色": "浅粉", "尺码": "73"},
                "price_fen": 6400,
                "list_price_fen": 9400,
                "stock": 50,
                "code": "BB-22",
                "weight_g": 170,
            },
            {
                "spec": {"颜色": "浅粉", "尺码": "80"},
                "price_fen": 6900,
                "list_price_fen": 9900,
                "stock": 40,
                "code": "BB-23",
                "weight_g": 190,
            },
            {
                "spec": {"颜色": "雾蓝", "尺码": "66"},
                "price_fen": 5900,
                "list_price_fen": 8900,
                "stock": 60,
                "code": "BB-31",
                "weight_g": 150,
            },
            {
                "spec": {"颜色": "雾蓝", "尺码": "73"},
                "price_fen": 6400,
                "list_price_fen": 9400,
                "stock": 50,
                "code": "BB-32",
                "weight_g": 170,
            },
            {
                "spec": {"颜色": "雾蓝", "尺码": "80"},
                "price_fen": 6900,
                "list_price_fen": 9900,
                "stock": 0,
                "code": "BB-33",
                "weight_g": 190,
            },
        ],
    },
]


# 图文详情 by title: a heading and paragraphs; the loader adds the product's last picture below them.
DETAILS: dict[str, list[str]] = {
    "赣南脐橙": [
        "产地直发 · 现摘现发",
        "赣南脐橙果皮薄、果肉脆嫩，甜酸比适中。",
        "坏果包赔：签收 48 小时内拍照联系客服。",
    ],
    "婴儿纯棉连体衣": [
        "A类纯棉 · 无骨缝制",
        "面料经过婴幼儿 A 类检测，柔软透气；内侧无骨缝线，不磨宝宝皮肤。",
        "按扣开档，换尿布不用整件脱。",
    ],
}
